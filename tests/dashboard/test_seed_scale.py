"""seed_scale: a large organization written in SQL that keeps every invariant of the product
(here small: 30 members, 3 lists, 2,000 calls, 3 months)."""

import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum

from credit.models import Account, DailyRollup, LedgerRollup, MonthlyRollup, Purchase, Transfer
from credit.selectors.ledger import ledger_problems
from credit.selectors.rollups import rollup_problems
from members.models import ListMembership, MemberList
from organizations.models import Member, Organization
from organizations.roles import Role
from subscriptions.models import Renewal, Subscription
from subscriptions.services.charges import subscription_charge_key
from usage.models import UsageRecord

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
# Mid-month, mid-afternoon: the current month has had two weeks of calls.
NOW = datetime.datetime(2026, 6, 17, 15, 30, tzinfo=PARIS)
SMALL = ["--members", "30", "--lists", "3", "--records", "2000", "--months", "3"]


@pytest.fixture(autouse=True)
def _development(settings, time_machine):
    settings.DEBUG = True
    time_machine.move_to(NOW, tick=False)


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_scale", *SMALL, *args, stdout=out)
    return out.getvalue()


def scale() -> Organization:
    return Organization.objects.get(slug="scale")


def test_it_makes_the_organization_asked_for(db):
    output = seed("--name", "Big Corp")
    organization = scale()
    assert organization.name == "Big Corp"
    assert (organization.currency, organization.time_zone) == ("EUR", "Europe/Paris")
    assert organization.verified
    assert organization.currency_locked
    members = Member.objects.for_org(organization)
    assert members.count() == 30
    assert members.filter(status=Member.Status.ACTIVE).count() == 30
    assert members.filter(role=Role.OWNER).count() == 1
    assert members.filter(role=Role.FINANCE).exists()
    assert not members.filter(user=None).exists()
    # Three lists, each with its department, everyone in one and some in two.
    lists = MemberList.objects.for_org(organization)
    assert lists.count() == 3
    sizes = lists.annotate(size=Count("members")).values_list("size", flat=True)
    assert min(sizes) >= 8
    per_member = ListMembership.objects.for_org(organization).values("member")
    per_member = per_member.annotate(n=Count("id"))
    assert {row["n"] for row in per_member} == {1, 2}
    assert len(per_member) == 30
    assert members.values("department").distinct().count() == 3
    assert "" not in members.values_list("department", flat=True)
    # Every member has a wallet; the calls and messages asked for.
    assert Account.objects.for_org(organization).filter(kind="member").count() == 30
    records = UsageRecord.objects.for_org(organization)
    assert records.filter(kind="call").count() == 2000
    assert records.filter(kind="sms").count() == 100
    assert "Seeded /o/scale/" in output
    assert "calls: 2,000" in output


def test_the_books_and_the_rollups_are_exact(db):
    seed()
    organization = scale()
    assert ledger_problems(organization) == []
    assert rollup_problems(organization) == []
    out = io.StringIO()
    call_command("check_ledger", organization="scale", stdout=out)
    call_command("check_rollups", organization="scale", stdout=out)
    assert "The ledger is sound." in out.getvalue()
    assert "The rollups are exact." in out.getvalue()


def test_wallets_never_go_below_zero_at_any_moment(db):
    seed()
    organization = scale()
    wallets = Account.objects.for_org(organization).filter(kind__in=Account.WALLETS)
    assert wallets.count() == 31
    assert not wallets.filter(balance__lt=0).exists()
    # Replay every wallet's transfers in time order.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH moves AS (
                SELECT destination_id AS account, created_at, id, amount
                FROM credit_transfer WHERE organization_id = %(org)s
                UNION ALL
                SELECT source_id, created_at, id, -amount
                FROM credit_transfer WHERE organization_id = %(org)s
            ), running AS (
                SELECT account, SUM(amount) OVER (
                    PARTITION BY account ORDER BY created_at, id
                ) AS balance FROM moves
            )
            SELECT MIN(running.balance) FROM running
            JOIN credit_account ON credit_account.id = running.account
            WHERE credit_account.kind IN ('organization', 'member')
            """,
            {"org": organization.pk},
        )
        [lowest] = cursor.fetchone()
    assert lowest >= 0
    # Nothing is owed and nothing came from the company balance: allocations cover usage.
    records = UsageRecord.objects.for_org(organization)
    assert records.aggregate(owed=Sum("owed"), company=Sum("from_company")) == {
        "owed": Decimal(0),
        "company": Decimal(0),
    }
    assert not Transfer.objects.for_org(organization).filter(created_at__gt=NOW).exists()


def test_usage_spreads_over_the_months_in_the_organizations_time_zone(db):
    seed()
    organization = scale()
    records = UsageRecord.objects.for_org(organization)
    months = {}
    for started_at in records.values_list("started_at", flat=True):
        local = started_at.astimezone(PARIS)
        assert 8 <= local.hour < 20
        months[local.date().replace(day=1)] = months.get(local.date().replace(day=1), 0) + 1
    assert sorted(months) == [
        datetime.date(2026, 4, 1),
        datetime.date(2026, 5, 1),
        datetime.date(2026, 6, 1),
    ]
    # Whole months get about twice the calls of this half month.
    assert months[datetime.date(2026, 4, 1)] > months[datetime.date(2026, 6, 1)]
    assert months[datetime.date(2026, 6, 1)] > 300
    # The monthly rollups add up to the records' cost, month by month.
    rolled = dict(
        MonthlyRollup.objects.for_org(organization)
        .exclude(category__in=["number", "voicemail", "subscription"])
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    spent = {}
    for started_at, cost in records.values_list("started_at", "cost"):
        month = started_at.astimezone(PARIS).date().replace(day=1)
        spent[month] = spent.get(month, Decimal(0)) + cost
    assert rolled == spent
    assert sum(rolled.values()) == records.aggregate(total=Sum("cost"))["total"] > 0
    assert DailyRollup.objects.for_org(organization).filter(category="call:FR").exists()


def test_records_are_priced_and_debited_like_ingested_ones(db):
    seed()
    organization = scale()
    records = UsageRecord.objects.for_org(organization)
    for record in records.filter(kind="call")[:200]:
        assert record.destination.startswith("+" + record.rate_prefix)
        if record.seconds == 0:
            assert record.cost == 0
            assert record.billed_seconds == 0
            continue
        assert record.billed_seconds >= record.seconds
        expected = (record.rate * record.billed_seconds / 60).quantize(Decimal("0.0001"))
        assert abs(record.cost - expected) <= Decimal("0.0001")
        assert record.from_member == record.cost
    debited = Transfer.objects.for_org(organization).filter(kind="usage")
    assert debited.count() == records.filter(cost__gt=0).count()
    one = records.filter(cost__gt=0).first()
    transfer = debited.get(idempotency_key=f"usage:{one.source}:{one.external_id}")
    assert transfer.amount.amount == one.cost
    assert transfer.source.member_id == one.member_id


def test_money_comes_from_purchases_allocations_and_renewals(db):
    seed()
    organization = scale()
    purchases = Purchase.objects.for_org(organization)
    assert purchases.count() >= 3
    assert set(purchases.values_list("status", flat=True)) == {"paid"}
    assert set(purchases.values_list("method", flat=True)) <= {"card", "bank_transfer"}
    transfers = Transfer.objects.for_org(organization)
    assert transfers.filter(kind="purchase").count() == purchases.count()
    # One allocation per member per month.
    assert transfers.filter(kind="allocation").count() == 30 * 3
    subscriptions = Subscription.objects.for_org(organization)
    assert subscriptions.count() == 9
    assert not subscriptions.filter(period_end__lte=NOW).exists()
    renewals = Renewal.objects.for_org(organization).select_related("transfer")
    assert renewals.count() == transfers.filter(kind="subscription_charge").count()
    assert renewals.count() > subscriptions.count()
    for renewal in renewals:
        key = subscription_charge_key(renewal.subscription_id, renewal.period_start)
        assert renewal.transfer.idempotency_key == key
        assert renewal.transfer.amount.amount == renewal.amount
    # The ledger rollups hold every kind of movement.
    kinds = set(LedgerRollup.objects.for_org(organization).values_list("kind", flat=True))
    assert kinds == {"purchase", "allocation", "usage", "subscription_charge"}


def test_another_time_zone_and_currency(db):
    seed("--slug", "ny", "--currency", "usd", "--time-zone", "America/New_York", "--country", "US")
    organization = Organization.objects.get(slug="ny")
    assert (organization.currency, organization.time_zone) == ("USD", "America/New_York")
    assert ledger_problems(organization) == []
    assert rollup_problems(organization) == []
    records = UsageRecord.objects.for_org(organization)
    assert set(records.values_list("currency", flat=True)) == {"USD"}
    assert records.filter(country="US").count() > records.count() / 3


def test_an_existing_address_is_refused_unless_replaced(db):
    seed()
    first = scale()
    before = UsageRecord.objects.for_org(first).count()
    with pytest.raises(CommandError, match="already has the address 'scale'"):
        seed()
    assert UsageRecord.objects.for_org(first).count() == before
    # --replace deletes it, its transfers and its people, and seeds again.
    seed("--replace", "--records", "500")
    assert not Organization.objects.filter(pk=first.pk).exists()
    again = scale()
    assert UsageRecord.objects.for_org(again).filter(kind="call").count() == 500
    assert not Transfer.objects.for_org(first).exists()
    assert get_user_model().objects.filter(username__startswith="seed-scale-").count() == 30
    assert ledger_problems() == []
    assert rollup_problems() == []
    # The transfers are immutable again.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'credit_transfer_immutable'"
        )
        assert cursor.fetchone() == ("O",)


def test_password_lets_the_owner_and_finance_sign_in(db, client):
    output = seed("--password", "a-long-seed-password")
    organization = scale()
    finance = Member.objects.for_org(organization).filter(role=Role.FINANCE).order_by("pk")[0]
    assert finance.username in output
    assert client.login(username=finance.username, password="a-long-seed-password")
    nobody = Member.objects.for_org(organization).filter(role=Role.MEMBER).first()
    assert not nobody.user.has_usable_password()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--members", "1"], "Members: from 2"),
        (["--lists", "0"], "Lists: at least 1"),
        (["--months", "0"], "Months: from 1"),
        (["--records", "-5"], "Records: from 0"),
        (["--currency", "XYZ"], "Currency 'XYZ'"),
        (["--time-zone", "Mars/Olympus"], "Time zone 'Mars/Olympus'"),
        (["--slug", "not a slug"], "not a valid address"),
    ],
)
def test_bad_options_are_refused_clearly(db, options, message):
    with pytest.raises(CommandError, match=message):
        seed(*options)
    assert not Organization.objects.filter(slug="scale").exists()


def test_it_refuses_to_run_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=true"):
        seed()
    assert not Organization.objects.exists()
