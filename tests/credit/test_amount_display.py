"""Amounts are shown in the page's language ("1 234,50 €" in French, "€1,234.50" in English)
with the currency's own digits, on pages, in the audit trail and in emails; and the previews of
an allocation or a take-back add up: each member's amount times the members is the total."""

import re
import unicodedata

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from credit.forms.allocation import new_key
from credit.models import Purchase
from members.services.lists import list_add_members
from organizations.audit import audit_record
from outbox.models import OutboundMessage
from skypemgr.amounts import parse_amount
from tests.credit.rules_support import bought, fund, give
from tests.factories import MemberFactory, MemberListFactory, OrganizationFactory, UserFactory


def readable(html: str) -> str:
    """The page's text with every kind of space made plain, to compare amounts."""
    return unicodedata.normalize("NFKC", html)


def speaking(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def url(org, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


SHOWN = {
    "en": {"balance": "€1,234.50", "purchase": "€500.00"},
    "fr": {"balance": "1 234,50 €", "purchase": "500,00 €"},
}


@pytest.mark.parametrize(("language", "other"), [("en", "fr"), ("fr", "en")])
def test_pages_show_amounts_in_the_page_language(org, owner, employee, login, language, other):
    purchase = bought(org, owner, amount=500)
    fund(org, Money(1000, "EUR"))
    give(org, employee, Money("1234.50", "EUR"))
    client = speaking(login(owner), language)
    pages = {
        "balance": [
            url(org, "credit:overview"),
            url(org, "credit:history"),
            url(org, "credit:member-credit", member_id=employee.pk),
            url(org, "members:member-detail", member_id=employee.pk),
            url(org, "members:member-list"),
        ],
        "purchase": [
            url(org, "credit:purchase-list"),
            url(org, "credit:purchase-detail", purchase_id=purchase.pk),
            url(org, "organizations:home"),
            url(org, "organizations:audit-log"),
        ],
    }
    for what, urls in pages.items():
        for address in urls:
            page = readable(client.get(address).content.decode())
            assert SHOWN[language][what] in page, address
            assert SHOWN[other][what] not in page, address


def test_the_audit_trail_shows_a_purchases_amount_in_the_readers_language(org, owner, login):
    bought(org, owner, amount=500)
    for language in ("fr", "en"):
        page = readable(
            speaking(login(owner), language)
            .get(url(org, "organizations:audit-log"))
            .content.decode()
        )
        purchase = Purchase.objects.for_org(org).get()
        assert purchase.number in page
        assert SHOWN[language]["purchase"] in page


@pytest.mark.parametrize(("language", "shown"), [("en", "¥1,500"), ("fr", "1 500 JPY")])
def test_yen_are_shown_without_decimals(db, login, language, shown):
    org = OrganizationFactory(currency="JPY")
    owner = MemberFactory(organization=org, role="owner")
    employee = MemberFactory(organization=org)
    fund(org, Money(5000, "JPY"))
    give(org, employee, Money(1500, "JPY"))
    client = speaking(login(owner), language)
    page = readable(
        client.get(url(org, "credit:member-credit", member_id=employee.pk)).content.decode()
    )
    assert shown in page
    assert "1,500.00" not in page
    assert "1 500,00" not in page


def test_emails_show_amounts_in_the_recipients_language(
    org, owner, django_capture_on_commit_callbacks
):
    french = MemberFactory(organization=org, role="owner", user=UserFactory(language="fr"))
    with django_capture_on_commit_callbacks(execute=True):
        bought(org, owner, amount=500)
    receipts = {m.to: m for m in OutboundMessage.objects.filter(key__startswith="credit:receipt:")}
    assert "500,00 €" in readable(receipts[french.user.email].body)
    assert "500,00 €" in readable(receipts[french.user.email].html)
    assert "€500.00" in receipts[owner.user.email].body


# --- Previews add up ----------------------------------------------------------------------------


def summary(response) -> list[str]:
    """The preview's summary values: members, each one's amount, total, balance now, after."""
    main = response.content.decode().split('id="main"')[1]
    dl = main.split("<dl", 1)[1].split("</dl>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", value).strip()
        for value in re.findall(r"<dd[^>]*>(.*?)</dd>", dl, re.S)
    ]


@pytest.fixture
def company_of(db, login):
    def build(currency: str, language: str):
        org = OrganizationFactory(currency=currency)
        owner = MemberFactory(organization=org, role="owner")
        team = MemberFactory.create_batch(3, organization=org)
        fund(org, Money(100_000, currency))
        for member in team:
            give(org, member, Money(1_000, currency))
        sales = MemberListFactory(organization=org)
        list_add_members(organization=org, actor=owner, member_list=sales, members=team)
        return org, team, sales, speaking(login(owner), language)

    return build


@pytest.mark.parametrize("flow", ["credit:allocate", "credit:take-back"])
@pytest.mark.parametrize("target", ["selected", "list", "everyone"])
@pytest.mark.parametrize(
    ("currency", "language", "typed"),
    [("EUR", "en", "33.33"), ("EUR", "fr", "33,33"), ("JPY", "en", "333"), ("JPY", "fr", "333")],
)
def test_previews_add_up(company_of, flow, target, currency, language, typed):
    org, team, sales, client = company_of(currency, language)
    data = {"target": target, "amount": typed, "how": "amount", "step": "preview"}
    if target == "selected":
        data["members"] = [member.pk for member in team]
    if target == "list":
        data["member_list"] = sales.pk
    response = client.post(url(org, flow), {**data, "idempotency_key": new_key()})

    assert response.status_code == 200
    count, each, total, *_balances = summary(response)
    with translation.override(language):
        each_shown = parse_amount(each, currency=currency)
        total_shown = parse_amount(total, currency=currency)
    assert each_shown * int(count) == total_shown
    assert response.context["plan"].total == Money(total_shown, currency)


@pytest.mark.parametrize("flow", ["credit:allocate", "credit:take-back"])
@pytest.mark.parametrize(
    ("currency", "typed", "error"),
    [
        ("EUR", "0.125", "Use at most 2 decimal places"),
        ("JPY", "0.5", "JPY amounts have no decimals"),
    ],
)
def test_an_amount_finer_than_the_currency_is_refused_so_the_preview_can_add_up(
    company_of, flow, currency, typed, error
):
    # 0.125 each for 3 members would show €0.12 each and €0.38 in all.
    org, _team, sales, client = company_of(currency, "en")
    data = {"target": "list", "member_list": sales.pk, "amount": typed, "how": "amount"}
    response = client.post(
        url(org, flow), {**data, "step": "preview", "idempotency_key": new_key()}
    )
    assert response.status_code == 200
    assert "plan" not in response.context
    assert error in response.context["form"].errors["amount"][0]


def test_an_events_amount_that_is_not_a_number_shows_nothing(org, owner, login):
    audit_record(organization=org, actor=owner, verb="credit.odd", data={"amount": "lots"})
    audit_record(organization=org, actor=owner, verb="credit.odd", data={"amount": "NaN"})
    client = speaking(login(owner), "fr")
    for address in (url(org, "organizations:audit-log"), url(org, "organizations:home")):
        response = client.get(address)
        assert response.status_code == 200
        assert "lots" not in response.content.decode()
