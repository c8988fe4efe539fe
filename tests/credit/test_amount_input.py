"""Every amount a person types, on every page that takes one, is read in the page's language:
"1,500" in English is 1500 (not 1.50), "1 500,50" in French is 1500.50, "1e3" is refused. A
refusal shows how to write an amount here, keeps what was typed, and changes nothing."""

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from djmoney.money import Money

from credit.forms.allocation import new_key
from credit.models import Account, CreditRule, Purchase
from credit.selectors.settings import credit_settings
from tests.credit.rules_support import fund, give
from tests.factories import MemberFactory, OrganizationFactory
from tests.tenancy import snapshot

NNBSP = "\u202f"
# How each page shows an amount written its way, in the refusals.
EXAMPLE = {("en", "EUR"): "1,500.50", ("fr", "EUR"): f"1{NNBSP}500,50", ("en", "JPY"): "1,500"}


@dataclass
class Scene:
    org: object
    owner: object
    employee: object
    client: object

    def url(self, name: str, **kwargs) -> str:
        return reverse(name, kwargs={"org_slug": self.org.slug, **kwargs})

    def member_url(self) -> str:
        return self.url("credit:member-credit", member_id=self.employee.pk)

    def balance(self) -> Decimal:
        return Account.objects.for_org(self.org).get(member=self.employee).balance.amount


@pytest.fixture
def scene(db, login):
    def build(currency: str, language: str) -> Scene:
        org = OrganizationFactory(currency=currency, verified=True)
        owner = MemberFactory(organization=org, role="owner")
        employee = MemberFactory(organization=org)
        fund(org, Money(100_000, currency))
        give(org, employee, Money(50_000, currency))
        client = login(owner)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return Scene(org, owner, employee, client)

    return build


@dataclass
class Outcome:
    """What a page made of the typed amount: the amount it used, or the field's errors."""

    value: Decimal | None
    errors: list[str]
    page: str


def _outcome(response, form_name: str, field: str, read) -> Outcome:
    page = response.content.decode()
    form = response.context and response.context.get(form_name)
    if form is not None and form.errors:
        return Outcome(None, [*form.errors.get(field, []), *form.non_field_errors()], page)
    assert response.status_code in (200, 302), page[:500]
    return Outcome(read(response), [], page)


def buy(scene: Scene, typed: str) -> Outcome:
    url = scene.url("credit:buy")
    key = scene.client.get(url).context["form"]["idempotency_key"].value()
    data = {"method": "bank_transfer", "amount_choice": "other", "custom_amount": typed}
    response = scene.client.post(url, {**data, "idempotency_key": key})
    only = Purchase.objects.for_org(scene.org).first
    return _outcome(response, "form", "custom_amount", lambda r: only().amount.amount)


def allocate(scene: Scene, typed: str) -> Outcome:
    data = {"target": "everyone", "amount": typed, "step": "preview", "idempotency_key": new_key()}
    response = scene.client.post(scene.url("credit:allocate"), data)
    return _outcome(response, "form", "amount", lambda r: r.context["plan"].lines[0].amount.amount)


def take_back(scene: Scene, typed: str) -> Outcome:
    data = {"target": "everyone", "how": "amount", "amount": typed, "step": "preview"}
    response = scene.client.post(
        scene.url("credit:take-back"), {**data, "idempotency_key": new_key()}
    )
    return _outcome(response, "form", "amount", lambda r: -r.context["plan"].lines[0].amount.amount)


def give_on_member_page(scene: Scene, typed: str) -> Outcome:
    before = scene.balance()
    data = {"action": "allocate", "give-amount": typed, "give-idempotency_key": new_key()}
    response = scene.client.post(scene.member_url(), data)
    return _outcome(response, "give_form", "amount", lambda r: scene.balance() - before)


def take_back_on_member_page(scene: Scene, typed: str) -> Outcome:
    before = scene.balance()
    data = {"action": "take_back", "take-how": "amount", "take-amount": typed}
    response = scene.client.post(scene.member_url(), {**data, "take-idempotency_key": new_key()})
    return _outcome(response, "take_form", "amount", lambda r: before - scene.balance())


def spending_cap(scene: Scene, typed: str) -> Outcome:
    response = scene.client.post(scene.member_url(), {"action": "cap", "cap-cap": typed})
    wallet = Account.objects.for_org(scene.org).get
    return _outcome(
        response,
        "cap_form",
        "cap",
        lambda r: wallet(member=scene.employee).monthly_spending_cap.amount,
    )


def _rule(scene: Scene, **fields) -> object:
    data = {"action": "create", "idempotency_key": uuid.uuid4().hex, "target": "everyone"}
    return scene.client.post(scene.url("credit:rule-list"), {**data, **fields})


def monthly_rule(scene: Scene, typed: str) -> Outcome:
    response = _rule(scene, kind="monthly_add", amount=typed, start="next_month")
    rule = CreditRule.objects.for_org(scene.org).first
    return _outcome(response, "form", "amount", lambda r: rule().amount.amount)


def recharge_rule(scene: Scene, typed: str) -> Outcome:
    """The member auto-recharge rule: amount, threshold and monthly maximum all typed."""
    response = _rule(scene, kind="auto_recharge", amount=typed, threshold=typed, monthly_max=typed)

    def read(_response):
        rule = CreditRule.objects.for_org(scene.org).get()
        values = {rule.amount.amount, rule.threshold.amount, rule.monthly_max.amount}
        assert len(values) == 1, values
        return values.pop()

    return _outcome(response, "form", "amount", read)


def company_auto_recharge(scene: Scene, typed: str) -> Outcome:
    """Saved turned off, so only the reading of the three amounts is at stake."""
    data = {"threshold": typed, "amount": typed, "monthly_max": typed}
    response = scene.client.post(scene.url("credit:auto-recharge"), data)

    def read(_response):
        row = credit_settings(scene.org)
        values = {
            row.auto_recharge_threshold.amount,
            row.auto_recharge_amount.amount,
            row.auto_recharge_monthly_max.amount,
        }
        assert len(values) == 1, values
        return values.pop()

    return _outcome(response, "form", "amount", read)


def low_balance_warning(scene: Scene, typed: str) -> Outcome:
    data = {"billing_name": "Acme", "low_balance_warning": typed}
    response = scene.client.post(scene.url("credit:settings"), data)
    return _outcome(
        response,
        "form",
        "low_balance_warning",
        lambda r: credit_settings(scene.org).low_balance_warning.amount,
    )


PAGES = [
    buy,
    allocate,
    take_back,
    give_on_member_page,
    take_back_on_member_page,
    spending_cap,
    monthly_rule,
    recharge_rule,
    company_auto_recharge,
    low_balance_warning,
]
CASES = [
    ("EUR", "en", "1,500", Decimal("1500")),
    ("EUR", "en", "10,000", Decimal("10000")),
    ("EUR", "fr", "1 500,50", Decimal("1500.50")),
    ("EUR", "fr", f"1{NNBSP}500,50", Decimal("1500.50")),
    ("JPY", "en", "1,000", Decimal("1000")),
    # babel reads no French number in "1,500.50": refused rather than guessed.
    ("EUR", "fr", "1,500.50", None),
    ("EUR", "en", "1e3", None),
    ("EUR", "en", "1,5", None),
    ("JPY", "en", "1,000.50", None),
]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.__name__)
@pytest.mark.parametrize(("currency", "language", "typed", "expected"), CASES)
def test_every_amount_field_reads_the_page_language(
    scene, page, currency, language, typed, expected
):
    here = scene(currency, language)
    before = snapshot(here.org)

    outcome = page(here, typed)

    if expected is not None:
        assert outcome.errors == []
        assert outcome.value == expected
        return
    assert snapshot(here.org) == before, "a refused amount changes nothing"
    [error, *_others] = outcome.errors
    assert EXAMPLE[language, currency] in error
    assert re.search(rf'value="{re.escape(typed)}"', outcome.page), "what was typed is kept"


@pytest.mark.parametrize(
    ("language", "shown"), [("en", 'value="1,500.50"'), ("fr", f'value="1{NNBSP}500,50"')]
)
def test_saved_amounts_come_back_into_the_forms_written_the_page_way(scene, language, shown):
    here = scene("EUR", language)
    typed = "1,500.50" if language == "en" else "1 500,50"
    assert company_auto_recharge(here, typed).value == Decimal("1500.50")
    assert low_balance_warning(here, typed).value == Decimal("1500.50")
    assert spending_cap(here, typed).value == Decimal("1500.50")

    for url in (
        here.url("credit:auto-recharge"),
        here.url("credit:settings"),
        here.member_url(),
    ):
        page = here.client.get(url).content.decode()
        assert shown in page, url
