"""Daily spending rollups (DailyRollup): what each member spent per day and category.

Written only inside the transaction that moves the money (a ledger movement's `rollup`, or
usage that cost nothing, see usage.services.ingest), so a rollup is exact by construction:
`manage.py check_rollups` proves it against usage records and transfers. Rows are upserted in
(member, day, category) order, after the accounts (the ledger's lock order), so that two
postings never wait on each other in a cycle.
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


def rollups_add(organization: Organization, entries: Sequence[RollupEntry]) -> None:
    """Add `entries` to the organization's rollups. Must run inside the transaction that
    posts what they stand for. Entries for the same row are summed first."""
    totals: dict[tuple, list] = {}
    for entry in entries:
        key = (entry.member_id, entry.day, entry.category)
        total = totals.setdefault(key, [Decimal(0), 0, 0])
        total[0] += entry.amount
        total[1] += entry.quantity
        total[2] += entry.records
    if not totals:
        return
    keys = sorted(totals)
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT,
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
