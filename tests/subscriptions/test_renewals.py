"""Renewal at the end of each period, by the beat's sweep: in the organization's time zone,
on the anchor day, once per period, at the catalog's price; and what ends instead."""

import datetime

import pytest
import time_machine
from djmoney.money import Money

from organizations.models import AuditEvent
from organizations.roles import Role
from organizations.scoping import tenant_scope
from subscriptions.models import Plan, PlanPrice, Subscription
from subscriptions.services.renewals import Outcome, subscription_renew
from tests.credit.rules_support import balance_of, bought
from tests.factories import MemberFactory, OrganizationFactory
from tests.subscriptions.renewals_support import (
    charges,
    fresh,
    local,
    renewals,
    subscribe,
    sweep,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("year", "february"), [(2027, 28), (2028, 29)])
def test_bought_on_january_31_renews_at_the_end_of_february_then_on_march_31(
    org, owner, year, february
):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, local(org, f"{year}-01-31 10:00"))
    assert subscription.period_end == local(org, f"{year}-02-{february} 00:00")

    assert sweep(local(org, f"{year}-02-{february - 1} 23:55")) == 0
    assert sweep(local(org, f"{year}-02-{february} 00:05")) == 1
    subscription = fresh(subscription)
    assert subscription.period_start == local(org, f"{year}-02-{february} 00:00")
    assert subscription.period_end == local(org, f"{year}-03-31 00:00")

    assert sweep(local(org, f"{year}-03-31 00:10")) == 1
    subscription = fresh(subscription)
    assert subscription.period_end == local(org, f"{year}-04-30 00:00")
    starts = [renewal.period_start for renewal in renewals(subscription)]
    assert starts == [
        local(org, f"{year}-01-31 10:00"),
        local(org, f"{year}-02-{february} 00:00"),
        local(org, f"{year}-03-31 00:00"),
    ]
    assert [charge.amount for charge in charges(org)] == [Money("2.99", "EUR")] * 3
    assert balance_of(org) == Money("91.03", "EUR")


def test_a_twelve_month_period_renews_a_year_later_at_the_yearly_price(org, owner):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, local(org, "2027-01-15 09:00"), months=12)
    assert sweep(local(org, "2028-01-14 23:59")) == 0
    assert sweep(local(org, "2028-01-15 00:01")) == 1
    subscription = fresh(subscription)
    assert subscription.period_end == local(org, "2029-01-15 00:00")
    yearly = PlanPrice.objects.get(
        plan__code="france-landlines-unlimited", currency="EUR", period_months=12
    ).amount
    assert [charge.amount.amount for charge in charges(org)] == [yearly, yearly]


def test_renewal_happens_at_midnight_in_the_organization_s_time_zone_not_utc(db):
    tokyo = OrganizationFactory(time_zone="Asia/Tokyo")
    owner = MemberFactory(organization=tokyo, role=Role.OWNER)
    bought(tokyo, owner, 100)
    subscription = subscribe(tokyo, owner, local(tokyo, "2027-05-10 20:00"))
    # Midnight on June 10th in Tokyo is 15:00 UTC on June 9th.
    assert subscription.period_end == datetime.datetime(2027, 6, 9, 15, tzinfo=datetime.UTC)
    assert sweep(datetime.datetime(2027, 6, 9, 14, 59, tzinfo=datetime.UTC)) == 0
    assert sweep(datetime.datetime(2027, 6, 9, 15, 1, tzinfo=datetime.UTC)) == 1
    assert fresh(subscription).period_end == local(tokyo, "2027-07-10 00:00")


def test_a_sweep_run_again_renews_nothing_more(org, owner):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, local(org, "2027-01-10 10:00"))
    at = local(org, "2027-02-10 00:05")
    assert sweep(at) == 1
    assert sweep(at) == 0
    with time_machine.travel(at, tick=False), tenant_scope(org):
        # Even asked directly, the period is paid: nothing is due.
        assert subscription_renew(organization=org, subscription_id=subscription.pk) == (
            Outcome.SKIPPED
        )
    assert len(renewals(subscription)) == 2
    assert len(charges(org)) == 2


def test_the_period_chosen_for_the_next_renewal_applies_then(org, owner):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, local(org, "2027-01-10 10:00"))
    Subscription.objects.for_org(org).filter(pk=subscription.pk).update(next_period_months=3)
    sweep(local(org, "2027-02-10 00:05"))
    subscription = fresh(subscription)
    assert (subscription.period_months, subscription.next_period_months) == (3, None)
    assert subscription.period_end == local(org, "2027-05-10 00:00")
    assert renewals(subscription)[-1].period_months == 3
    assert charges(org)[-1].amount == Money(
        PlanPrice.objects.get(
            plan__code="france-landlines-unlimited", currency="EUR", period_months=3
        ).amount,
        "EUR",
    )


def test_the_price_is_the_catalog_s_at_renewal_time(org, owner):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, local(org, "2027-01-10 10:00"))
    PlanPrice.objects.filter(
        plan__code="france-landlines-unlimited", currency="EUR", period_months=1
    ).update(amount="3.49")
    sweep(local(org, "2027-02-10 00:05"))
    assert charges(org)[-1].amount == Money("3.49", "EUR")
    assert renewals(subscription)[-1].amount == Money("3.49", "EUR").amount


def test_a_plan_no_longer_sold_in_the_currency_expires_with_a_reason(org, owner):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, local(org, "2027-01-10 10:00"))
    PlanPrice.objects.filter(plan__code="france-landlines-unlimited", currency="EUR").delete()
    sweep(local(org, "2027-02-10 00:05"))
    subscription = fresh(subscription)
    assert subscription.status == Subscription.Status.EXPIRED
    assert subscription.failure_reason
    assert subscription.ended_at is not None
    assert len(charges(org)) == 1
    with tenant_scope(org):
        event = AuditEvent.objects.get(verb="subscription.ended")
    assert event.data["reason"] == "not_sold"


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"cancel_at_period_end": True}, Subscription.Status.CANCELLED, "cancelled"),
        ({"auto_renew": False}, Subscription.Status.EXPIRED, "auto_renew_off"),
    ],
)
def test_a_feature_that_does_not_renew_ends_at_its_period_end_without_a_charge(
    org, owner, change, status, reason
):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, local(org, "2027-01-10 10:00"))
    Subscription.objects.for_org(org).filter(pk=subscription.pk).update(**change)
    assert sweep(local(org, "2027-02-09 23:00")) == 0
    assert fresh(subscription).status == Subscription.Status.ACTIVE
    sweep(local(org, "2027-02-10 00:05"))
    subscription = fresh(subscription)
    assert subscription.status == status
    assert subscription.ended_at == local(org, "2027-02-10 00:00")
    assert subscription.suspended_at is None
    assert len(renewals(subscription)) == 1
    assert len(charges(org)) == 1
    assert balance_of(org) == Money("97.01", "EUR")
    with tenant_scope(org):
        event = AuditEvent.objects.get(verb="subscription.ended")
    assert event.data["reason"] == reason
    assert sweep(local(org, "2027-03-10 00:05")) == 0


def test_an_ended_number_is_held_for_the_release_step(org, owner):
    """A number whose subscription ends keeps its number for the hold: suspended_at is set
    (the hold counts from it) and released_at stays empty for release_held_numbers."""
    bought(org, owner, 100)
    member = MemberFactory(organization=org)
    at = local(org, "2027-01-10 10:00")
    with tenant_scope(org):
        subscription = Subscription.objects.create(
            organization=org,
            member=member,
            plan=Plan.objects.get(code="number-fr"),
            status=Subscription.Status.ACTIVE,
            period_months=1,
            anchor_day=10,
            period_start=at,
            period_end=local(org, "2027-02-10 00:00"),
            phone_number="+33198765432",
            auto_renew=False,
        )
    ended_at = local(org, "2027-02-10 00:05")
    sweep(ended_at)
    subscription = fresh(subscription)
    assert subscription.status == Subscription.Status.EXPIRED
    assert subscription.suspended_at == ended_at
    assert subscription.released_at is None
    assert charges(org) == []


def test_the_charge_shows_in_the_credit_history_with_its_kind(org, owner, login):
    bought(org, owner, 100)
    member = MemberFactory(organization=org, display_name="Zoe Renewal")
    subscribe(org, owner, local(org, "2027-01-10 10:00"), member=member)
    sweep(local(org, "2027-02-10 00:05"))
    page = login(owner).get(f"/o/{org.slug}/credit/history/?kind=subscription_charge")
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count("Subscription charge") >= 2
    assert "France landlines unlimited for Zoe Renewal" in text


def test_renewals_read_as_sentences_in_the_audit_log(org, owner, login):
    bought(org, owner, 100)
    member = MemberFactory(organization=org, display_name="Zoe Renewal")
    subscribe(org, owner, local(org, "2027-01-10 10:00"), member=member)
    sweep(local(org, "2027-02-10 00:05"))
    text = login(owner).get(f"/o/{org.slug}/settings/audit/").content.decode()
    assert "renewed France landlines unlimited for Zoe Renewal: €2.99, until" in text
