"""Spending rollups: what each member spent per day (DailyRollup) and per month (MonthlyRollup)
and category; and the ledger's monthly rollups (LedgerRollup): what moved in and out of each
account per month and kind of transfer.

Written only inside the transaction that moves the money (a ledger movement's `rollup`, or
usage that cost nothing, see usage.services.ingest), so a rollup is exact by construction:
`manage.py check_rollups` proves it against usage records and transfers. Rows are upserted in
(member, day, category) order, then the monthly ones in (member, month, category) order,
then the members' month totals, and last the organization's day totals (DailyTotal), whose rows
every member's postings share: their writers hold the usage account's lock (usage) or the
subscriptions account's (feature charges and refunds), taken with the accounts, so they queue
there first. All after the accounts (the ledger's lock order), so that two postings never wait
on each other in a cycle. Ledger rollups are keyed by account, and written while the posting
holds the accounts' locks, so they never make a posting wait.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from organizations.models import Organization

# Categories other than calls ("call:<country>").
SMS = "sms"
NUMBER = "number"
VOICEMAIL = "voicemail"
SUBSCRIPTION = "subscription"


@dataclass(frozen=True)
class RollupEntry:
    member_id: int
    day: datetime.date
    category: str
    amount: Decimal
    quantity: int = 0
    records: int = 0


def call_category(country: str) -> str:
    return f"call:{(country or 'ZZ').upper()}"


def rollup_day(organization: Organization, moment: datetime.datetime | None = None):
    """The organization's calendar day of `moment` (now by default)."""
    moment = moment or timezone.now()
    return moment.astimezone(ZoneInfo(organization.time_zone)).date()


_UPSERT = """
INSERT INTO credit_dailyrollup
    (organization_id, member_id, day, category, amount, quantity, records)
SELECT %s, * FROM unnest(%s::bigint[], %s::date[], %s::text[], %s::numeric[], %s::bigint[],
                         %s::int[])
ON CONFLICT (organization_id, member_id, day, category) DO UPDATE SET
    amount = credit_dailyrollup.amount + excluded.amount,
    quantity = credit_dailyrollup.quantity + excluded.quantity,
    records = credit_dailyrollup.records + excluded.records
"""

# The months of the same entries, summed by (member, month, category) and sorted.
_UPSERT_MONTHS = """
INSERT INTO credit_monthlyrollup
    (organization_id, member_id, month, category, amount, quantity, records)
SELECT %s, * FROM unnest(%s::bigint[], %s::date[], %s::text[], %s::numeric[], %s::bigint[],
                         %s::int[])
ON CONFLICT (organization_id, member_id, month, category) DO UPDATE SET
    amount = credit_monthlyrollup.amount + excluded.amount,
    quantity = credit_monthlyrollup.quantity + excluded.quantity,
    records = credit_monthlyrollup.records + excluded.records
"""

_UPSERT_LEDGER = """
INSERT INTO credit_ledgerrollup
    (organization_id, account_id, account_kind, month, kind, amount_in, amount_out, transfers)
SELECT %s, * FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::text[], %s::numeric[],
                         %s::numeric[], %s::int[])
ON CONFLICT (organization_id, account_id, month, kind) DO UPDATE SET
    amount_in = credit_ledgerrollup.amount_in + excluded.amount_in,
    amount_out = credit_ledgerrollup.amount_out + excluded.amount_out,
    transfers = credit_ledgerrollup.transfers + excluded.transfers
"""

# The organization's days (DailyTotal): the same entries without the member.
_UPSERT_DAY_TOTALS = """
INSERT INTO credit_dailytotal (organization_id, day, category, amount, quantity, records)
SELECT %s, * FROM unnest(%s::date[], %s::text[], %s::numeric[], %s::bigint[], %s::int[])
ON CONFLICT (organization_id, day, category) DO UPDATE SET
    amount = credit_dailytotal.amount + excluded.amount,
    quantity = credit_dailytotal.quantity + excluded.quantity,
    records = credit_dailytotal.records + excluded.records
"""

# The members' months folded into the reports' columns (MemberMonthTotal).
_UPSERT_MEMBER_MONTHS = """
INSERT INTO credit_membermonthtotal
    (organization_id, member_id, month, calls, seconds, messages, usage, features, amount)
SELECT %s, * FROM unnest(%s::bigint[], %s::date[], %s::int[], %s::bigint[], %s::bigint[],
                         %s::numeric[], %s::numeric[], %s::numeric[])
ON CONFLICT (organization_id, member_id, month) DO UPDATE SET
    calls = credit_membermonthtotal.calls + excluded.calls,
    seconds = credit_membermonthtotal.seconds + excluded.seconds,
    messages = credit_membermonthtotal.messages + excluded.messages,
    usage = credit_membermonthtotal.usage + excluded.usage,
    features = credit_membermonthtotal.features + excluded.features,
    amount = credit_membermonthtotal.amount + excluded.amount
"""


def _folded(entries) -> tuple[list, dict]:
    """The entries by (member, month), as the reports' columns: calls, their seconds,
    messages, the cost of calls and messages, of features, and the whole."""
    totals: dict[tuple, list] = {}
    for entry in entries:
        total = totals.setdefault(
            (entry.member_id, entry.day.replace(day=1)),
            [0, 0, 0, Decimal(0), Decimal(0), Decimal(0)],
        )
        is_call = entry.category.startswith("call:")
        if is_call:
            total[0] += entry.records
            total[1] += entry.quantity
        elif entry.category == SMS:
            total[2] += entry.quantity
        total[3 if is_call or entry.category == SMS else 4] += entry.amount
        total[5] += entry.amount
    return sorted(totals), totals


def _summed(entries, key_of) -> tuple[list, dict]:
    totals: dict[tuple, list] = {}
    for entry in entries:
        total = totals.setdefault(key_of(entry), [Decimal(0), 0, 0])
        total[0] += entry.amount
        total[1] += entry.quantity
        total[2] += entry.records
    return sorted(totals), totals


def _upsert(cursor, sql: str, organization: Organization, keys: list, totals: dict) -> None:
    cursor.execute(
        sql,
        [
            organization.pk,
            [key[0] for key in keys],
            [key[1] for key in keys],
            [key[2] for key in keys],
            [totals[key][0] for key in keys],
            [totals[key][1] for key in keys],
            [totals[key][2] for key in keys],
        ],
    )


def rollups_add(organization: Organization, entries: Sequence[RollupEntry]) -> None:
    """Add `entries` to the organization's daily and monthly rollups, the members' month
    totals and the organization's day totals. Must run inside the transaction that posts what
    they stand for. Entries for the same row are summed first."""
    if not entries:
        return
    days, day_totals = _summed(entries, lambda e: (e.member_id, e.day, e.category))
    months, month_totals = _summed(
        entries, lambda e: (e.member_id, e.day.replace(day=1), e.category)
    )
    members_months, folded = _folded(entries)
    totals_days, day_sums = _summed(entries, lambda e: (e.day, e.category))
    with connection.cursor() as cursor:
        _upsert(cursor, _UPSERT, organization, days, day_totals)
        _upsert(cursor, _UPSERT_MONTHS, organization, months, month_totals)
        cursor.execute(
            _UPSERT_MEMBER_MONTHS,
            [
                organization.pk,
                [key[0] for key in members_months],
                [key[1] for key in members_months],
                *([folded[key][index] for key in members_months] for index in range(6)),
            ],
        )
        # Last: the organization's own rows, shared by every member's postings.
        cursor.execute(
            _UPSERT_DAY_TOTALS,
            [
                organization.pk,
                [key[0] for key in totals_days],
                [key[1] for key in totals_days],
                *([day_sums[key][index] for key in totals_days] for index in range(3)),
            ],
        )


def ledger_rollups_add(organization: Organization, transfers: Sequence, *, month) -> None:
    """Add new transfers (posted in `month`, the first day of the organization's calendar
    month) to the accounts' monthly ledger rollups: each transfer's amount goes out of its
    source and into its destination. Only inside the posting's transaction, with every account
    involved locked (credit.services.ledger)."""
    totals: dict[tuple, list] = {}
    for transfer in transfers:
        amount = transfer.amount.amount
        for account, amount_in, amount_out in (
            (transfer.source, Decimal(0), amount),
            (transfer.destination, amount, Decimal(0)),
        ):
            total = totals.setdefault(
                (account.pk, account.kind, transfer.kind), [Decimal(0), Decimal(0), 0]
            )
            total[0] += amount_in
            total[1] += amount_out
            total[2] += 1
    if not totals:
        return
    keys = sorted(totals)
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_LEDGER,
            [
                organization.pk,
                [key[0] for key in keys],
                [key[1] for key in keys],
                [month] * len(keys),
                [key[2] for key in keys],
                [totals[key][0] for key in keys],
                [totals[key][1] for key in keys],
                [totals[key][2] for key in keys],
            ],
        )
