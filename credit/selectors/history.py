"""Reads of the transfers: the organization's credit history, a member's own movements, and
whether a form's one-time key was already used. Always given the organization.

Each transfer comes with its accounts, their members and its actor (no query per row), and
with `direction`: +1 when it credits the account the page looks from (the company balance, or
the member's wallet), -1 when it debits it, 0 when it does not touch it (a member's usage,
seen from the company).
"""

import datetime
import zoneinfo
from collections.abc import Iterable

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from credit.models import Account, Transfer
from organizations.models import Member, Organization

_RELATED = ("source__member", "destination__member", "actor")


def _day_start(day: datetime.date, organization: Organization) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(organization.time_zone)
    )


def _wallet_id(organization: Organization, member: Member) -> int | None:
    return (
        Account.objects.for_org(organization)
        .filter(kind=Account.Kind.MEMBER, member=member)
        .values_list("pk", flat=True)
        .first()
    )


def transfer_history(
    *,
    organization: Organization,
    member: Member | None = None,
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Transfer]:
    """Every transfer of the organization, newest first, seen from the company balance.

    `member`: only the transfers in or out of their wallet. Dates are days in the
    organization's time zone, both ends included.
    """
    transfers = Transfer.objects.for_org(organization)
    if member is not None:
        wallet_id = _wallet_id(organization, member)
        if wallet_id is None:
            return transfers.none()
        transfers = transfers.filter(Q(source_id=wallet_id) | Q(destination_id=wallet_id))
    if kind:
        transfers = transfers.filter(kind=kind)
    if date_from:
        transfers = transfers.filter(created_at__gte=_day_start(date_from, organization))
    if date_to:
        next_day = date_to + datetime.timedelta(days=1)
        transfers = transfers.filter(created_at__lt=_day_start(next_day, organization))
    company = Account.Kind.ORGANIZATION
    return (
        transfers.select_related(*_RELATED)
        .annotate(
            direction=Case(
                When(destination__kind=company, then=Value(1)),
                When(source__kind=company, then=Value(-1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-created_at", "-id")
    )


def member_transfers(*, organization: Organization, member: Member) -> QuerySet[Transfer]:
    """The transfers in and out of a member's wallet, newest first, seen from the wallet."""
    wallet_id = _wallet_id(organization, member)
    transfers = Transfer.objects.for_org(organization)
    if wallet_id is None:
        return transfers.none()
    return (
        transfers.filter(Q(source_id=wallet_id) | Q(destination_id=wallet_id))
        .select_related(*_RELATED)
        .annotate(
            direction=Case(
                When(destination_id=wallet_id, then=Value(1)),
                default=Value(-1),
                output_field=IntegerField(),
            )
        )
        .order_by("-created_at", "-id")
    )


def history_members(*, organization: Organization) -> QuerySet[Member]:
    """Everyone who has (or had) a balance: the people the history can be narrowed to."""
    wallets = Account.objects.for_org(organization).filter(kind=Account.Kind.MEMBER)
    return Member.objects.for_org(organization).filter(pk__in=wallets.values("member_id"))


def transfer_keys_used(
    *,
    organization: Organization,
    keys: Iterable[str] = (),
    prefix: str = "",
    since: datetime.datetime | None = None,
) -> bool:
    """True when a transfer was already posted under one of `keys`, or (given `since`, the
    time the form was made) under a key starting with `prefix` since then.

    The second way finds a form's transfers when its targets have changed since (everyone who
    held credit holds none after a take-back); `since` keeps the search to recent transfers.
    """
    transfers = Transfer.objects.for_org(organization)
    keys = list(keys)
    if keys and transfers.filter(idempotency_key__in=keys).exists():
        return True
    if prefix and since is not None:
        window = since - datetime.timedelta(minutes=5)
        return transfers.filter(created_at__gte=window, idempotency_key__startswith=prefix).exists()
    return False
