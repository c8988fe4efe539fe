"""Assigning a plan: the first period charged at once, one transfer per subscription, all or
nothing, once per form key; periods end at midnight in the organization's time zone."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from djmoney.money import Money

from credit.models import Transfer
from credit.services.allocation import CompanyBalanceShort
from organizations.scoping import tenant_scope
from skypemgr.errors import ApplicationError
from subscriptions.models import MemberFeatures, Plan, Renewal, Subscription
from subscriptions.periods import period_end, prorated
from subscriptions.selectors.catalog import catalog_for
from subscriptions.services.assign import subscriptions_assign
from tests.credit.rules_support import balance_of, bought
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

PARIS = "Europe/Paris"


def france(**extra) -> Plan:
    return Plan.objects.get(code="france-landlines-unlimited", **extra)


def assign(org, actor, members, plan=None, months=1, key="form-1", **extra):
    with tenant_scope(org):
        return subscriptions_assign(
            organization=org,
            actor=actor,
            members=members,
            plan=plan or france(),
            period_months=months,
            form_key=key,
            **extra,
        )


def test_the_catalog_offers_plans_priced_in_the_organization_currency(org):
    offers = {offer.plan.code: offer for offer in catalog_for(organization=org)}
    assert offers["france-landlines-unlimited"].prices[1] == Money("2.99", "EUR")
    assert offers["france-landlines-unlimited"].periods == [1, 3, 12]
    assert offers["number-fr"].periods == [1, 12]
    assert {offer.plan.kind for offer in offers.values()} == {"calling", "number", "voicemail"}


def test_a_plan_without_a_price_in_the_currency_is_not_offered(org):
    france().prices.filter(currency="EUR").delete()
    codes = {offer.plan.code for offer in catalog_for(organization=org)}
    assert "france-landlines-unlimited" not in codes
    assert "world-200" in codes


def test_assigning_charges_the_first_period_once_per_member(org, owner):
    bought(org, owner, 100)
    people = MemberFactory.create_batch(3, organization=org)
    done = assign(org, owner, people)
    assert not done.replayed
    assert done.total == Money("8.97", "EUR")
    assert balance_of(org) == Money("91.03", "EUR")
    with tenant_scope(org):
        charges = Transfer.objects.filter(kind=Transfer.Kind.SUBSCRIPTION_CHARGE)
        assert charges.count() == 3
        assert Renewal.objects.filter(status="paid", transfer__isnull=False).count() == 3
        assert set(Subscription.objects.values_list("status", flat=True)) == {"active"}
    again = assign(org, owner, people)
    assert again.replayed
    assert balance_of(org) == Money("91.03", "EUR")
    with tenant_scope(org):
        assert Subscription.objects.count() == 3


def test_a_short_balance_assigns_nothing_and_says_what_is_missing(org, owner):
    bought(org, owner, 5)
    people = MemberFactory.create_batch(2, organization=org)
    with pytest.raises(CompanyBalanceShort) as short:
        assign(org, owner, people, plan=Plan.objects.get(code="europe-400"))
    assert short.value.missing == Money("6.98", "EUR")
    assert short.value.recharge_started is False
    with tenant_scope(org):
        assert not Subscription.objects.exists()
        assert not Renewal.objects.exists()
    assert balance_of(org) == Money("5", "EUR")


def test_members_who_may_not_use_the_kind_are_refused(org, owner):
    bought(org, owner, 100)
    member = MemberFactory(organization=org)
    MemberFeatures.objects.create(organization=org, member=member, may_call=False)
    with pytest.raises(ApplicationError, match="may not use"):
        assign(org, owner, [member])


def test_employees_and_other_organizations_members_are_refused(org, owner, employee):
    bought(org, owner, 100)
    with pytest.raises(ApplicationError, match="Only owners and admins"):
        assign(org, employee, [employee])
    stranger = MemberFactory(organization=OrganizationFactory())
    with pytest.raises(ApplicationError, match="not members here"):
        assign(org, owner, [stranger])


@pytest.mark.parametrize(
    ("bought_at", "months", "ends"),
    [
        ("2027-01-31 15:00", 1, "2027-02-28"),
        ("2028-01-31 15:00", 1, "2028-02-29"),
        ("2027-01-15 09:00", 12, "2028-01-15"),
        ("2027-11-30 23:30", 3, "2028-02-29"),
    ],
)
def test_periods_end_at_midnight_in_the_organization_time_zone(bought_at, months, ends):
    zone = zoneinfo.ZoneInfo(PARIS)
    start = datetime.datetime.fromisoformat(bought_at).replace(tzinfo=zone)
    end = period_end(start, months, anchor_day=start.day, time_zone=PARIS)
    assert end == datetime.datetime.fromisoformat(ends).replace(tzinfo=zone)


def test_a_plan_bought_on_the_31st_comes_back_to_the_31st():
    zone = zoneinfo.ZoneInfo(PARIS)
    start = datetime.datetime(2027, 1, 31, 10, tzinfo=zone)
    february = period_end(start, 1, anchor_day=31, time_zone=PARIS)
    march = period_end(february, 1, anchor_day=31, time_zone=PARIS)
    assert (february.day, march.day) == (28, 31)


def test_midnight_is_the_organization_s_not_utc(owner):
    org = owner.organization
    bought(org, owner, 100)
    member = MemberFactory(organization=org)
    # 23:30 UTC on January 31st is already February 1st in Paris.
    with time_machine.travel(datetime.datetime(2027, 1, 31, 23, 30, tzinfo=datetime.UTC)):
        [subscription] = assign(org, owner, [member]).subscriptions
    zone = zoneinfo.ZoneInfo(PARIS)
    assert subscription.anchor_day == 1
    assert subscription.period_end == datetime.datetime(2027, 3, 1, tzinfo=zone)


def test_a_prorated_refund_never_exceeds_what_was_paid():
    start = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(2027, 1, 31, tzinfo=datetime.UTC)
    half = start + (end - start) / 2
    assert prorated("2.99", currency="EUR", start=start, end=end, now=half) == Decimal("1.49")
    assert prorated("300", currency="JPY", start=start, end=end, now=half) == 150
    assert prorated("2.99", currency="EUR", start=start, end=end, now=end) == 0
