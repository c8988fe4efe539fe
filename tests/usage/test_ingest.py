"""Recording usage: priced once, debited from the member, then the company, then owed;
included minutes first; rollups kept in step; duplicates and bad records answered per record;
a later price posts one adjustment."""

import dataclasses
import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from credit.models import Account, DailyRollup, Transfer
from credit.selectors.ledger import ledger_problems
from subscriptions.models import Plan
from tests.factories import MemberFactory, SubscriptionFactory
from tests.usage.support import account_balance, call, fund, give, rate, sms, wallet_balance
from usage.models import CallReservation, IncludedMinutes, UsageRecord
from usage.services.ingest import usage_record_reprice, usage_records_ingest


@pytest.fixture
def rates(db):
    from usage.models import Rate

    Rate.objects.all().delete()
    rate("33", "0.02", country="FR")
    rate("336", "0.15", country="FR", line_type="mobile")
    rate("44", "0.03", country="GB", increment="second")


def ingest(org, *records):
    return usage_records_ingest(organization=org, records=list(records))


def test_a_call_is_priced_and_debited_from_the_member(org, employee, rates):
    fund(org, 10)
    give(org, employee, 5)
    [outcome] = ingest(org, call(employee, "+33 6 12 34 56 78", seconds=61, external_id="c1"))
    assert outcome.status == "created"
    record = outcome.record
    assert (record.rate_prefix, record.billed_seconds, record.cost) == ("336", 120, Decimal("0.3"))
    assert (record.destination, record.country) == ("+33612345678", "FR")
    assert wallet_balance(org, employee) == Decimal("4.7")
    [transfer] = Transfer.objects.for_org(org).filter(kind="usage")
    assert transfer.idempotency_key == "usage:api:c1"
    assert transfer.amount.amount == Decimal("0.3")
    [rollup] = DailyRollup.objects.for_org(org)
    assert (rollup.category, rollup.amount, rollup.quantity, rollup.records) == (
        "call:FR",
        Decimal("0.3"),
        61,
        1,
    )


def test_member_to_zero_then_company_then_owed(org, employee, rates):
    fund(org, 1)
    give(org, employee, "0.5")
    # 100 minutes at 0.02 = 2.00: 0.50 from the member, 0.50 from the company, 1.00 owed.
    [outcome] = ingest(org, call(employee, "+33123456789", seconds=6000))
    record = outcome.record
    assert (record.from_member, record.from_company, record.owed) == (
        Decimal("0.5"),
        Decimal("0.5"),
        Decimal("1"),
    )
    assert wallet_balance(org, employee) == 0
    assert account_balance(org, Account.Kind.ORGANIZATION) == 0
    assert account_balance(org, Account.Kind.RECEIVABLE) == Decimal("-1")
    assert account_balance(org, Account.Kind.USAGE) == Decimal("2")
    assert ledger_problems() == []


def test_a_record_sent_again_is_a_duplicate_and_debited_once(org, employee, rates):
    give_some(org, employee)
    first = ingest(org, call(employee, external_id="same"))
    again = ingest(org, call(employee, external_id="same"), call(employee, external_id="same"))
    assert [o.status for o in first + again] == ["created", "duplicate", "duplicate"]
    assert UsageRecord.objects.for_org(org).count() == 1
    assert Transfer.objects.for_org(org).filter(kind="usage").count() == 1
    assert DailyRollup.objects.for_org(org).get().records == 1


def give_some(org, member, amount=20):
    fund(org, amount)
    give(org, member, amount)


def test_bad_records_are_rejected_one_by_one(org, other_org, employee, rates):
    give_some(org, employee)
    stranger = MemberFactory(organization=other_org)
    outcomes = ingest(
        org,
        call(employee, external_id="good"),
        call(stranger, external_id="stranger"),
        call(employee, "not a number", external_id="nonsense"),
        call(employee, "+8613800000000", external_id="no-rate"),
        call(employee, seconds=-5, external_id="negative"),
        dataclasses.replace(call(employee), external_id=""),
        call(employee, external_id="x" * 101),
        call(employee, external_id="nul\x00"),
        call(employee, started_at=timezone.now() + datetime.timedelta(days=1), external_id="f"),
        call(employee, started_at=datetime.datetime(2026, 1, 1), external_id="naive"),
        sms(employee, units=0, external_id="empty-sms"),
        call(employee, cost=Decimal("-1"), external_id="negative-cost"),
        call(employee, cost=Decimal("0.00001"), external_id="tiny-cost"),
        sms(employee, external_id="ok2"),
    )
    assert [o.status for o in outcomes] == ["created"] + ["rejected"] * 12 + ["created"]
    assert all(o.reason for o in outcomes[1:-1])
    assert UsageRecord.objects.for_org(org).count() == 2


def test_the_source_cost_is_charged_and_inbound_calls_are_free(org, employee, rates):
    give_some(org, employee)
    outcomes = ingest(
        org,
        call(employee, "+8613800000000", seconds=300, cost=Decimal("1.2345"), external_id="p"),
        call(employee, "+33123456789", seconds=300, direction="inbound", external_id="in"),
    )
    assert [o.record.cost for o in outcomes] == [Decimal("1.2345"), 0]
    assert wallet_balance(org, employee) == Decimal("18.7655")


def test_included_minutes_are_taken_first(org, employee, rates):
    give_some(org, employee)
    plan = Plan.objects.get(code="europe-400")
    subscription = SubscriptionFactory(organization=org, member=employee, plan=plan)
    # 400 minutes: a 399-minute call leaves 60 seconds, and the next 3 minutes take them first.
    ingest(org, call(employee, "+33123456789", seconds=399 * 60, external_id="long"))
    [record] = [o.record for o in ingest(org, call(employee, "+33123456789", seconds=170))]
    assert (record.included_seconds, record.subscription_id) == (60, subscription.pk)
    assert record.cost == Decimal("0.04")  # two minutes at 0.02
    used = IncludedMinutes.objects.for_org(org).get(subscription=subscription)
    assert used.used_seconds == 400 * 60


def test_sms_are_priced_per_part(org, employee, rates):
    give_some(org, employee)
    [outcome] = ingest(org, sms(employee, "+447700900123", units=3))
    assert outcome.record.cost == Decimal("0.15")
    assert DailyRollup.objects.for_org(org).get().category == "sms"


def test_a_record_closes_its_hold(org, employee, rates):
    give_some(org, employee)
    from usage.services.authorize import call_authorize

    authorization = call_authorize(
        organization=org, member=employee, destination="+33123456789", reference="CAparent"
    )
    assert authorization.allowed
    ingest(org, call(employee, source="twilio", external_id="CAchild", reservation="CAparent"))
    assert CallReservation.objects.for_org(org).get().released_at is not None


def test_a_later_price_posts_one_adjustment(org, employee, rates):
    give_some(org, employee, 10)
    ingest(org, call(employee, "+33123456789", seconds=60, source="twilio", external_id="CA1"))
    assert wallet_balance(org, employee) == Decimal("9.98")
    for _ in range(3):
        usage_record_reprice(
            organization=org, source="twilio", external_id="CA1", provider_cost="-0.0500"
        )
    record = UsageRecord.objects.for_org(org).get()
    assert (record.provider_cost, record.adjustment) == (Decimal("0.05"), Decimal("0.03"))
    assert wallet_balance(org, employee) == Decimal("9.95")
    assert Transfer.objects.for_org(org).filter(kind="adjustment").count() == 1
    assert DailyRollup.objects.for_org(org).get().amount == Decimal("0.05")
    # A lower price is given back to where the usage was paid from.
    ingest(org, call(employee, "+33123456789", seconds=600, source="twilio", external_id="CA2"))
    usage_record_reprice(organization=org, source="twilio", external_id="CA2", provider_cost="0.1")
    assert wallet_balance(org, employee) == Decimal("9.85")


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_five_times_at_once_records_once(rates_committed, org_committed):
    org, member = org_committed
    batch = [call(member, external_id=f"batch-{n}") for n in range(20)]
    errors = []

    def post():
        try:
            usage_records_ingest(organization=org, records=batch)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert UsageRecord.objects.for_org(org).count() == 20
    assert Transfer.objects.for_org(org).filter(kind="usage").count() == 20
    assert sum(r.records for r in DailyRollup.objects.for_org(org)) == 20
    assert wallet_balance(org, member) == Decimal(20) - Decimal("0.02") * 20


@pytest.fixture
def rates_committed(transactional_db):
    from usage.models import Rate

    Rate.objects.all().delete()
    rate("33", "0.02", country="FR")


@pytest.fixture
def org_committed(transactional_db):
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    member = MemberFactory(organization=org)
    fund(org, 20)
    give(org, member, 20)
    return org, member
