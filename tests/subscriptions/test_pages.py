"""The Features pages: the catalog, assigning (choose, preview, confirm once), a feature's page
(cancel at the period end or now with a refund, automatic renewal, next period), members'
access, and the features shown on the home, the directory, member details and My account."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from credit.forms.allocation import new_key
from credit.models import Transfer
from members.services.lists import list_add_members
from organizations.models import AuditEvent, Member
from organizations.scoping import tenant_scope
from subscriptions.models import MemberFeatures, Plan, PlanPrice, Renewal, Subscription
from subscriptions.services.assign import subscriptions_assign
from subscriptions.services.manage import subscription_cancel
from tests.credit.rules_support import balance_of, bought
from tests.factories import MemberFactory, MemberListFactory, SubscriptionFactory
from tests.tenancy import snapshot

pytestmark = pytest.mark.django_db


def eur(value) -> Money:
    return Money(value, "EUR")


def france() -> Plan:
    return Plan.objects.get(code="france-landlines-unlimited")


def url(org, path="") -> str:
    return f"/o/{org.slug}/features/{path}"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def main_of(response) -> str:
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


def charges(org) -> int:
    return Transfer.objects.for_org(org).filter(kind="subscription_charge").count()


def refunds(org) -> list[Transfer]:
    return list(Transfer.objects.for_org(org).filter(kind="subscription_refund"))


def subscriptions(org):
    return Subscription.objects.for_org(org)


def preview(client, org, data):
    return client.post(url(org, "assign/"), {**data, "step": "preview"})


def confirm(client, org, shown):
    """Send the preview's own form back with its Confirm button, as a browser would."""
    form = shown.content.decode().split('name="expected"')[0].rsplit("<form", 1)[1]
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        data.setdefault(name, []).append(value)
    data["expected"] = [shown.context["plan"].fingerprint]
    data["step"] = ["confirm"]
    return client.post(url(org, "assign/"), data)


def assign(org, actor, members, plan=None, months=1, key="k1"):
    with tenant_scope(org):
        return subscriptions_assign(
            organization=org,
            actor=actor,
            members=members,
            plan=plan or france(),
            period_months=months,
            form_key=key,
        )


@pytest.fixture
def team(org):
    return MemberFactory.create_batch(3, organization=org)


# --- Catalog ----------------------------------------------------------------------------------


def test_the_catalog_shows_plans_by_kind_with_prices_in_the_currency(org, finance, login):
    response = login(finance).get(url(org, "catalog/"))
    assert response.status_code == 200
    page = main_of(response)
    for text in (
        "Calling subscription",
        "Online number",
        "Voicemail",
        "France landlines unlimited",
        "€2.99",
        "€29.99",
        "Unlimited",
        "Voicemail included",
        "Germany",
        "Europe",
    ):
        assert text in page, text
    assert ">Assign<" not in page, "finance reads, it does not assign"


def test_the_catalog_speaks_french_names(org, owner, login):
    client = login(owner)
    page = main_of(client.get(url(org, "catalog/"), headers={"accept-language": "fr"}))
    assert "Fixes France illimités" in page or "France landlines unlimited" in page


def test_an_empty_catalog_in_the_currency_says_so(org, owner, login):
    PlanPrice.objects.filter(currency="EUR").delete()
    page = main_of(login(owner).get(url(org, "catalog/")))
    assert "Nothing in the catalog is sold in EUR yet" in page


# --- Roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path", "method", "status"),
    [
        ("finance", "", "get", 200),
        ("finance", "catalog/", "get", 200),
        ("finance", "assign/", "get", 403),
        ("finance", "assign/", "post", 403),
        ("member", "", "get", 403),
        ("member", "catalog/", "get", 403),
        ("admin", "assign/", "get", 200),
    ],
)
def test_who_may_open_the_features_pages(org, role, path, method, status, login):
    member = MemberFactory(organization=org, role=role)
    response = getattr(login(member), method)(url(org, path))
    assert response.status_code == status


def test_finance_reads_a_feature_but_cannot_change_it(org, owner, finance, login):
    subscription = SubscriptionFactory(organization=org)
    client = login(finance)
    assert client.get(url(org, f"{subscription.pk}/")).status_code == 200
    before = snapshot(org)
    response = client.post(
        url(org, f"{subscription.pk}/"), {"action": "auto_renew", "auto_renew": "off"}
    )
    assert response.status_code == 403
    assert client.get(url(org, f"{subscription.pk}/cancel/")).status_code == 403
    assert snapshot(org) == before


# --- Assign -----------------------------------------------------------------------------------


def test_assign_to_chosen_members_preview_then_confirm(org, owner, admin, team, login):
    bought(org, owner, 100)
    client = login(admin)
    # From a member's page: the link preselects them.
    start = client.get(url(org, "assign/"), {"members": [team[0].pk]})
    assert start.context["form"].initial["target"] == "selected"
    data = {
        "target": "selected",
        "members": [team[0].pk, team[1].pk],
        "plan": france().pk,
        "period_months": "3",
        "idempotency_key": new_key(),
    }
    shown = preview(client, org, data)
    assert shown.status_code == 200
    plan = shown.context["plan"]
    assert (plan.count, plan.total, plan.company_after) == (2, eur("16.98"), eur("83.02"))
    page = main_of(shown)
    for text in ("€8.49", "€16.98", "€83.02", team[0].display_name):
        assert text in page
    assert charges(org) == 0, "a preview charges nothing"
    done = confirm(client, org, shown)
    assert done.status_code == 302
    assert charges(org) == 2
    assert balance_of(org) == eur("83.02")
    assert set(subscriptions(org).values_list("member_id", "period_months")) == {
        (team[0].pk, 3),
        (team[1].pk, 3),
    }
    assert "France landlines unlimited assigned to 2 members (€16.98 charged)." in messages_of(
        client.get(done["Location"])
    )
    # Sent again: once.
    again = confirm(client, org, shown)
    assert again.status_code == 302
    assert charges(org) == 2
    assert "This was already assigned; each feature was charged once." in messages_of(
        client.get(again["Location"])
    )


def test_assign_to_a_list_leaves_out_who_cannot_receive_it(org, owner, team, login):
    bought(org, owner, 100)
    sales = MemberListFactory(organization=org, name="Sales")
    invited = MemberFactory(organization=org, status=Member.Status.INVITED)
    list_add_members(organization=org, actor=owner, member_list=sales, members=[*team, invited])
    with tenant_scope(org):
        MemberFeatures.objects.create(organization=org, member=team[2], may_call=False)
    assign(org, owner, [team[1]], key="earlier")
    client = login(owner)
    shown = preview(
        client,
        org,
        {"target": "list", "member_list": sales.pk, "plan": france().pk, "period_months": "1",
         "idempotency_key": new_key()},
    )  # fmt: skip
    plan = shown.context["plan"]
    assert plan.members == [team[0]]
    reasons = {member.pk: str(reason) for member, reason in plan.left_out}
    assert reasons == {
        invited.pk: "has not joined yet",
        team[1].pk: "already has this feature",
        team[2].pk: "may not use this kind of feature (see their access)",
    }
    confirm(client, org, shown)
    assert subscriptions(org).filter(member=team[0]).count() == 1


def test_a_short_balance_at_confirm_says_what_is_missing_and_assigns_nothing(
    org, owner, team, login
):
    bought(org, owner, 5)
    client = login(owner)
    data = {"target": "selected", "members": [m.pk for m in team], "plan": france().pk,
            "period_months": "1", "idempotency_key": new_key()}  # fmt: skip
    shown = preview(client, org, data)
    assert shown.context["plan"].missing == eur("3.97")
    assert "short by €3.97" in main_of(shown)
    assert "/credit/buy/" in main_of(shown)
    # Confirmed anyway (a form kept open): refused with the missing amount.
    response = confirm(client, org, shown)
    assert response.status_code == 200
    assert response.context["short"].missing == eur("3.97")
    assert "nothing was assigned or charged" in main_of(response)
    assert not subscriptions(org).exists()
    assert charges(org) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"plan": "999999"},
        {"plan": "abc"},
        {"plan": ""},
        {"period_months": "5"},
        {"period_months": "x"},
        {"members": ["abc"]},
        {"members": ["99999999999999999999"]},
        {"target": "nobody"},
        {"idempotency_key": "not-a-key"},
    ],
)
def test_bad_input_is_a_clear_error_and_assigns_nothing(org, owner, team, login, data):
    bought(org, owner, 100)
    base = {"target": "selected", "members": [team[0].pk], "plan": france().pk,
            "period_months": "1", "idempotency_key": new_key()}  # fmt: skip
    client = login(owner)
    for step in ("preview", "confirm"):
        response = client.post(url(org, "assign/"), {**base, **data, "step": step})
        assert response.status_code == 200
    assert not subscriptions(org).exists()
    assert charges(org) == 0


def test_number_plans_and_unknown_plans_are_not_assignable_here(org, owner, team, login):
    bought(org, owner, 100)
    number = Plan.objects.get(code="number-fr")
    client = login(owner)
    response = preview(client, org, {"target": "selected", "members": [team[0].pk],
                                     "plan": number.pk, "period_months": "1",
                                     "idempotency_key": new_key()})  # fmt: skip
    assert "Choose a feature from the catalog." in main_of(response)
    assert not subscriptions(org).exists()


def test_a_period_the_plan_is_not_sold_for_is_refused(org, owner, team, login):
    PlanPrice.objects.filter(plan=france(), currency="EUR", period_months=3).delete()
    response = preview(login(owner), org, {"target": "selected", "members": [team[0].pk],
                                           "plan": france().pk, "period_months": "3",
                                           "idempotency_key": new_key()})  # fmt: skip
    assert "is not sold for 3 months here" in main_of(response)


def test_another_organizations_member_is_not_found(org, owner, team, outsider, login):
    bought(org, owner, 100)
    response = preview(login(owner), org, {"target": "selected", "members": [outsider.pk],
                                           "plan": france().pk, "period_months": "1",
                                           "idempotency_key": new_key()})  # fmt: skip
    assert response.status_code == 200
    assert "Choose who receives the feature." in main_of(response)
    assert not subscriptions(org).exists()


# --- Cancel and change ------------------------------------------------------------------------


def test_cancel_at_period_end_keeps_it_until_then(org, owner, admin, team, login):
    bought(org, owner, 100)
    [subscription] = assign(org, owner, [team[0]]).subscriptions
    client = login(admin)
    page = client.get(url(org, f"{subscription.pk}/cancel/"))
    assert page.status_code == 200
    assert 'value="now"' not in main_of(page), "admins do not refund"
    response = client.post(url(org, f"{subscription.pk}/cancel/"), {"when": "period_end"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)
    assert refunds(org) == []
    # An admin cannot cancel now, even by posting it.
    response = client.post(url(org, f"{subscription.pk}/cancel/"), {"when": "now"})
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == "active"
    # Undone.
    client.post(url(org, f"{subscription.pk}/"), {"action": "keep"})
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is False
    verbs = set(AuditEvent.objects.for_org(org).values_list("verb", flat=True))
    assert {"feature.cancelled", "feature.cancel_undone"} <= verbs


def test_cancel_now_refunds_the_rest_of_the_period_once(org, owner, team, login):
    bought(org, owner, 100)
    start = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        [subscription] = assign(org, owner, [team[0]], months=12).subscriptions
    assert balance_of(org) == eur("70.01")
    client = login(owner)
    with time_machine.travel(start, tick=False):
        # Cancelled at once: all of it comes back, the period is refunded.
        first = client.post(url(org, f"{subscription.pk}/cancel/"), {"when": "now"})
        second = client.post(url(org, f"{subscription.pk}/cancel/"), {"when": "now"})
    assert first.status_code == second.status_code == 302
    [refund] = refunds(org)
    assert refund.amount == eur("29.99")
    assert balance_of(org) == eur(100)
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"
    assert subscription.ended_at is not None
    with tenant_scope(org):
        assert Renewal.objects.get(subscription=subscription).status == "refunded"
    assert "This feature was already cancelled." in messages_of(client.get(second["Location"]))


def test_cancel_now_half_way_refunds_half(org, owner, team):
    bought(org, owner, 100)
    start = datetime.datetime(2026, 4, 1, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        [subscription] = assign(org, owner, [team[0]]).subscriptions
    end = subscription.period_end
    with time_machine.travel(start + (end - start) / 2, tick=False), tenant_scope(org):
        subscription_cancel(organization=org, actor=owner, subscription=subscription, now=True)
        subscription_cancel(organization=org, actor=owner, subscription=subscription, now=True)
        renewal = Renewal.objects.get(subscription=subscription)
    [refund] = refunds(org)
    assert refund.amount == eur("1.49")
    assert renewal.status == "paid", "partly refunded"


def test_auto_renew_and_next_period(org, owner, admin, team, login):
    bought(org, owner, 100)
    [subscription] = assign(org, owner, [team[0]]).subscriptions
    client = login(admin)
    detail = url(org, f"{subscription.pk}/")
    client.post(detail, {"action": "auto_renew", "auto_renew": "off"})
    subscription.refresh_from_db()
    assert subscription.auto_renew is False
    client.post(detail, {"action": "auto_renew", "auto_renew": "on"})
    client.post(detail, {"action": "period", "period_months": "12"})
    subscription.refresh_from_db()
    assert (subscription.auto_renew, subscription.next_period_months) == (True, 12)
    assert subscription.period_months == 1, "the current period is unchanged"
    before = snapshot(org)
    for data in (
        {"action": "period", "period_months": "7"},
        {"action": "period", "period_months": "abc"},
        {"action": "auto_renew", "auto_renew": "maybe"},
        {"action": "explode"},
        {},
    ):
        response = client.post(detail, data)
        assert response.status_code == 302
        assert messages_of(client.get(detail))
    assert snapshot(org) == before


def test_another_organizations_feature_is_404(org, owner, other_org, login):
    theirs = SubscriptionFactory(organization=other_org)
    client = login(owner)
    assert client.get(url(org, f"{theirs.pk}/")).status_code == 404
    assert client.post(url(org, f"{theirs.pk}/cancel/"), {"when": "period_end"}).status_code == 404


# --- Access -----------------------------------------------------------------------------------


def test_admins_set_access_finance_reads_it(org, admin, finance, team, login):
    access_url = f"/o/{org.slug}/members/{team[0].pk}/access/"
    response = login(admin).post(access_url, {"may_call": "on", "may_numbers": "on"})
    assert response.status_code == 302
    with tenant_scope(org):
        row = MemberFeatures.objects.get(member=team[0])
    assert (row.may_call, row.may_sms, row.may_numbers, row.may_voicemail) == (
        True, False, True, False,
    )  # fmt: skip
    assert AuditEvent.objects.for_org(org).filter(verb="feature.access_changed").count() == 1
    assert login(finance).get(access_url).status_code == 200
    assert login(finance).post(access_url, {"may_call": "on"}).status_code == 403
    detail = main_of(login(finance).get(f"/o/{org.slug}/members/{team[0].pk}/"))
    assert "May use" in detail


# --- Elsewhere --------------------------------------------------------------------------------


def test_features_show_on_member_details_my_account_home_and_directory(org, owner, employee, login):
    bought(org, owner, 100)
    assign(org, owner, [employee], plan=Plan.objects.get(code="europe-400"))
    detail = main_of(login(owner).get(f"/o/{org.slug}/members/{employee.pk}/"))
    assert "Europe 400 minutes" in detail
    assert "400 minutes included this period" in detail
    assert "Renews on" in detail
    mine = main_of(login(employee).get(f"/o/{org.slug}/me/"))
    assert "Europe 400 minutes" in mine
    assert "400 minutes included this period" in mine
    home = main_of(login(owner).get(f"/o/{org.slug}/"))
    assert 'data-live="1"' in home
    directory = main_of(login(owner).get(f"/o/{org.slug}/members/"))
    assert "Europe 400 minutes" in directory


def test_the_directory_column_is_one_query_per_page(org, owner, login):
    bought(org, owner, 500)
    client = login(owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/o/{org.slug}/members/").status_code == 200
        return len(queries)

    people = MemberFactory.create_batch(2, organization=org)
    assign(org, owner, people, key="a")
    few = count()
    more = MemberFactory.create_batch(10, organization=org)
    assign(org, owner, more, key="b")
    assert count() == few
