"""Helpers for the usage tests: this month's rollups as the ledger writes them, and dates."""

import datetime
from decimal import Decimal

from django.db import transaction

from credit.selectors.spending import local_today
from credit.services.rollups import RollupEntry, rollups_add


def rollup(organization, member, amount, *, category="call:FR", day=None, quantity=0, records=1):
    """Add to the member's rollup of `day` (today by default), inside a transaction, the way
    a posting does."""
    with transaction.atomic():
        rollups_add(
            organization,
            [
                RollupEntry(
                    member_id=member.pk,
                    day=day or local_today(organization),
                    category=category,
                    amount=Decimal(str(amount)),
                    quantity=quantity,
                    records=records,
                )
            ],
        )


def days_ago(organization, days: int) -> datetime.date:
    return local_today(organization) - datetime.timedelta(days=days)
