"""Helpers for the usage tests: rates, money, and records as the sources send them."""

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from credit.models import Account
from credit.services.ledger import member_wallet, system_account
from tests.credit.rules_support import fund, give  # noqa: F401 (re-exported for the tests)
from usage.models import Rate
from usage.services.ingest import UsageInput

_ids = itertools.count(1)


def rate(prefix, per_minute, *, currency="EUR", per_sms="0.05", increment="minute", **more):
    """A rate row (created, or changed to these prices when a sample rate has the prefix)."""
    defaults = {
        "country": more.pop("country", "FR"),
        "description": more.pop("description", f"+{prefix}"),
        "per_minute": Decimal(str(per_minute)),
        "per_sms": Decimal(str(per_sms)),
        "increment": increment,
        **more,
    }
    row, _ = Rate.objects.update_or_create(currency=currency, prefix=prefix, defaults=defaults)
    return row


def call(member, destination="+33123456789", seconds=60, *, external_id=None, **more):
    return UsageInput(
        member=member,
        kind="call",
        destination=destination,
        started_at=more.pop("started_at", timezone.now() - datetime.timedelta(minutes=5)),
        seconds=seconds,
        source=more.pop("source", "api"),
        external_id=external_id or f"call-{next(_ids)}",
        **more,
    )


def sms(member, destination="+33612345678", units=1, *, external_id=None, **more):
    return UsageInput(
        member=member,
        kind="sms",
        destination=destination,
        started_at=more.pop("started_at", timezone.now() - datetime.timedelta(minutes=1)),
        units=units,
        source=more.pop("source", "api"),
        external_id=external_id or f"sms-{next(_ids)}",
        **more,
    )


def wallet_balance(org, member) -> Decimal:
    return Account.objects.for_org(org).get(pk=member_wallet(org, member).pk).balance.amount


def account_balance(org, kind) -> Decimal:
    return system_account(org, kind).balance.amount
