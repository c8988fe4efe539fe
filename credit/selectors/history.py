"""Reads of the transfers: the organization's credit history (by pages, and whole for an
export), a member's own movements, and whether a form's one-time key was already used. Always
given the organization.

Each transfer comes with its accounts, their members and its actor (no query per row), and
with `direction`: +1 when it credits the account the page looks from (the company balance, or
the member's wallet), -1 when it debits it, 0 when it does not touch it (a member's usage,
seen from the company).

The history is read by keyset: a page is the transfers just older (or just newer) than a
position, (created_at, id), along the index of that order. No page counts or skips the
transfers before it, so the last page of three years costs what the first does.
"""

import datetime
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from credit.models import Account, Transfer
from organizations.models import Member, Organization

_RELATED = ("source__member", "destination__member", "actor")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


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


@dataclass(frozen=True)
class Position:
    """A place in the history, between transfers: the (created_at, id) of a transfer."""

    created_at: datetime.datetime
    id: int

    @classmethod
    def of(cls, transfer: Transfer) -> "Position":
        return cls(transfer.created_at, transfer.pk)

    @classmethod
    def end_of_day(cls, day: datetime.date, organization: Organization) -> "Position":
        """Just after every transfer of `day` (in the organization's time zone)."""
        return cls(_day_start(day + datetime.timedelta(days=1), organization), 0)

    @property
    def token(self) -> str:
        """The position as a URL writes it: microseconds since 1970 (UTC), "_", the id."""
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}_{self.id}"

    @classmethod
    def from_token(cls, token: str) -> "Position | None":
        """The position a token names; None for anything else."""
        when, _separator, pk = str(token).partition("_")
        if not (when.isascii() and when.isdigit() and pk.isascii() and pk.isdigit()):
            return None
        if len(when) > 18 or len(pk) > 18:
            return None
        try:
            created_at = _EPOCH + int(when) * _MICROSECOND
        except OverflowError:
            return None
        return cls(created_at, int(pk))

    def older(self) -> Q:
        return Q(created_at__lte=self.created_at) & (
            Q(created_at__lt=self.created_at) | Q(id__lt=self.id)
        )

    def newer(self) -> Q:
        return Q(created_at__gte=self.created_at) & (
            Q(created_at__gt=self.created_at) | Q(id__gt=self.id)
        )


@dataclass(frozen=True)
class HistoryPage:
    """Transfers newest first, and where the pages beside it start (None: no such page)."""

    transfers: list[Transfer]
    # The newer page holds the transfers newer than `newer`; the older, older than `older`.
    newer: Position | None
    older: Position | None
    # The page of the newest transfers (no position asked).
    latest: bool


def transfer_history_page(
    transfers: QuerySet[Transfer],
    *,
    before: Position | None = None,
    after: Position | None = None,
    size: int = 50,
) -> HistoryPage:
    """One page of `transfers` (from `transfer_history`): the `size` transfers just older than
    `before`, or just newer than `after`, or the newest. Two queries at most, whatever the
    length of the history."""
    if after is not None:
        found = list(transfers.filter(after.newer()).order_by("created_at", "id")[: size + 1])
        has_newer = len(found) > size
        found = found[:size][::-1]
        oldest_shown = Position.of(found[-1]) if found else after
        has_older = transfers.filter(oldest_shown.older()).exists()
        newer = Position.of(found[0]) if has_newer else None
        older = oldest_shown if has_older else None
    else:
        window = transfers.filter(before.older()) if before is not None else transfers
        found = list(window[: size + 1])
        has_older = len(found) > size
        found = found[:size]
        older = Position.of(found[-1]) if has_older else None
        newer = None
        if before is not None:
            newest_shown = Position.of(found[0]) if found else before
            if transfers.filter(newest_shown.newer()).exists():
                newer = newest_shown
    return HistoryPage(
        transfers=found, newer=newer, older=older, latest=before is None and after is None
    )


def transfer_history_batches(
    transfers: QuerySet[Transfer], *, size: int = 1000
) -> Iterator[list[Transfer]]:
    """All of `transfers` (from `transfer_history`), newest first, `size` at a time: a walk
    along the keyset, so that an export of any length holds one batch in memory."""
    position = None
    while True:
        window = transfers.filter(position.older()) if position is not None else transfers
        batch = list(window[:size])
        if batch:
            yield batch
        if len(batch) < size:
            return
        position = Position.of(batch[-1])


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
