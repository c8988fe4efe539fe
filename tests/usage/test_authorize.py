"""Authorizing calls: refused without credit, over the cap, when not allowed or blocked;
allowed for exactly the seconds the member can afford; holds that keep two calls at once from
spending the same credit."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from credit.services.caps import member_spending_cap_set
from subscriptions.models import MemberFeatures, Plan
from tests.factories import MemberFactory, OrganizationFactory, SubscriptionFactory
from tests.usage.support import call, fund, give, rate
from usage.models import CallReservation
from usage.pricing import LONGEST_CALL
from usage.selectors.allowance import member_allowance
from usage.services.authorize import (
    call_authorize,
    member_from_identity,
    member_identity,
    reservation_release,
    sms_authorize,
)
from usage.services.ingest import usage_records_ingest

FRANCE = "+33123456789"


@pytest.fixture
def rates(db):
    from usage.models import Rate

    Rate.objects.all().delete()
    rate("33", "0.02", country="FR")
    rate("336", "0.15", country="FR", line_type="mobile")
    rate("44", "0.12", country="GB", increment="second")
    rate("882", "2.50", country="ZZ", blocked=True)


def authorize(org, member, destination=FRANCE, reference="CA1"):
    return call_authorize(
        organization=org, member=member, destination=destination, reference=reference
    )


def test_no_credit_is_refused(org, employee, rates):
    refused = authorize(org, employee)
    assert (refused.allowed, refused.reason) == (False, "no_credit")
    assert not CallReservation.objects.for_org(org).exists()


def test_the_time_limit_is_what_the_member_can_afford_to_the_second(org, employee, rates):
    fund(org, 10)
    give(org, employee, "1.00")
    # Per second after the first minute at 0.12 a minute (0.002 a second): 1.00 buys 500 s.
    allowed = authorize(org, employee, "+447700900123")
    assert (allowed.allowed, allowed.seconds) == (True, 500)
    assert allowed.reservation.amount == Decimal("1.0000")
    # Per minute at 0.02: the hold of the first call leaves nothing for a second.
    refused = authorize(org, employee, FRANCE, reference="CA2")
    assert refused.reason == "no_credit"
    reservation_release(organization=org, reference="CA1")
    # 1.00 at 0.02 a minute: 50 minutes.
    assert authorize(org, employee, FRANCE, reference="CA3").seconds == 50 * 60


def test_the_monthly_cap_limits_and_then_refuses(org, admin, employee, rates):
    fund(org, 10)
    give(org, employee, 10)
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap="0.50")
    assert authorize(org, employee).seconds == 25 * 60
    reservation_release(organization=org, reference="CA1")
    usage_records_ingest(organization=org, records=[call(employee, FRANCE, seconds=25 * 60)])
    refused = authorize(org, employee, reference="CA2")
    assert (refused.allowed, refused.reason) == (False, "cap_reached")
    assert "monthly spending limit" in refused.message


def test_kinds_not_allowed_and_blocked_destinations_are_refused(org, employee, rates):
    fund(org, 10)
    give(org, employee, 10)
    assert authorize(org, employee, "+882161234567").reason == "blocked"
    assert authorize(org, employee, "+8613800000000", reference="CA2").reason == "no_rate"
    assert authorize(org, employee, "call me", reference="CA3").reason == "no_number"
    MemberFeatures.objects.create(organization=org, member=employee, may_call=False)
    assert authorize(org, employee, reference="CA4").reason == "not_allowed"
    assert sms_authorize(
        organization=org, member=employee, destination=FRANCE, units=1, reference="SM1"
    ).allowed


def test_included_minutes_allow_calls_without_credit(org, employee, rates):
    SubscriptionFactory(organization=org, member=employee, plan=Plan.objects.get(code="europe-400"))
    allowed = authorize(org, employee)
    # 400 minutes are more than a call may last (four hours): it holds four hours of them.
    assert (allowed.allowed, allowed.seconds) == (True, LONGEST_CALL)
    assert allowed.reservation.included_seconds == LONGEST_CALL
    assert authorize(org, employee, reference="CA1b").seconds == 400 * 60 - LONGEST_CALL
    # Unlimited landlines: the longest call Twilio allows.
    other = MemberFactory(organization=org)
    SubscriptionFactory(organization=org, member=other)
    assert authorize(org, other, reference="CA2").seconds == LONGEST_CALL
    assert authorize(org, other, "+33612345678", reference="CA3").reason == "no_credit"


def test_the_same_call_authorized_twice_holds_once(org, employee, rates):
    fund(org, 10)
    give(org, employee, 1)
    first, again = authorize(org, employee), authorize(org, employee)
    assert first.seconds == again.seconds == 50 * 60
    assert CallReservation.objects.for_org(org).count() == 1


def test_the_page_and_the_webhook_reckon_alike(org, employee, rates):
    fund(org, 10)
    give(org, employee, 1)
    shown = member_allowance(organization=org, member=employee, destination="+44 7700 900123")
    assert (shown.seconds, shown.per_minute.amount, shown.balance.amount) == (
        500,
        Decimal("0.12"),
        Decimal(1),
    )
    assert authorize(org, employee, "+447700900123").seconds == shown.seconds


def test_identities_round_trip(org, employee):
    identity = member_identity(employee)
    assert member_from_identity(f"client:{identity}") == (org.pk, employee.pk)
    assert member_from_identity(f"sip:{identity}@acme.sip.twilio.com") == (org.pk, employee.pk)
    for bad in ["", "client:", "client:skypemgr-1", "+33123456789", "client:x-1-2", "sip:a@b"]:
        assert member_from_identity(bad) is None


@pytest.mark.django_db(transaction=True)
def test_two_calls_at_once_cannot_overspend():
    rate("33", "0.02", country="FR")
    org = OrganizationFactory()
    member = MemberFactory(organization=org)
    fund(org, 1)
    give(org, member, 1)
    results = []
    barrier = threading.Barrier(8)

    def dial(n):
        barrier.wait()
        try:
            results.append(authorize(org, member, reference=f"CA{n}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=dial, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    allowed = [r for r in results if r.allowed]
    assert len(results) == 8
    assert len(allowed) == 1, "the first hold takes all of the credit"
    held = sum(r.amount for r in CallReservation.objects.for_org(org))
    assert held <= Decimal(1)
