"""Reads of a member's usage: their calls and messages (keyset pages, newest first), what they
spent this month (from the daily rollups, never a sum over raw usage), the minutes left of
their calling subscriptions, and how a destination is shown to whoever reads it.

Masking lives here and only here: when the organization hides the last digits of numbers
(UsageSettings.mask_destinations), every record these selectors return carries
`shown_destination` with its last four digits hidden, unless the reader is an owner or a
finance member. Pages and exports show `shown_destination`, never `destination`.

Always given the organization; never writes.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django_countries import countries
from djmoney.money import Money

from credit.models import DailyRollup
from credit.selectors.spending import local_month, local_today, month_bounds, next_month
from credit.services.rollups import NUMBER, SMS, SUBSCRIPTION, VOICEMAIL
from organizations.models import Member, Organization
from organizations.roles import Role
from subscriptions.models import Plan, Subscription
from usage.models import IncludedMinutes, UsageRecord, UsageSettings
from usage.selectors.allowance import usage_categories

PAGE_SIZE = 25
MASK = "•"
# How many of a number's last digits the mask hides.
MASKED_DIGITS = 4
# Readers who always see whole numbers.
UNMASKED_ROLES = (Role.OWNER, Role.FINANCE)
CALL_PREFIX = "call:"
# The days before today that an average day of usage is taken over (unusual spend).
AVERAGE_DAYS = 30

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


# --- Masking ---------------------------------------------------------------------------------


def destinations_masked(*, organization: Organization, viewer: Member) -> bool:
    """Whether `viewer` reads destinations with their last digits hidden: when the
    organization asks for it, for everyone but owners and finance (a member reading their own
    calls included)."""
    if viewer.role in UNMASKED_ROLES:
        return False
    return UsageSettings.objects.for_org(organization).filter(mask_destinations=True).exists()


def destination_shown(destination: str, *, masked: bool) -> str:
    """The destination as a masked reader sees it: its last four digits replaced by "•"
    ("+33 1 23 45 67 89" -> "+33 1 23 45 •• ••"); a shorter number loses every digit."""
    if not masked:
        return destination
    characters = list(destination)
    hidden = 0
    for index in range(len(characters) - 1, -1, -1):
        if hidden == MASKED_DIGITS:
            break
        if characters[index].isdigit():
            characters[index] = MASK
            hidden += 1
    return "".join(characters)


def records_shown(records: Iterable[UsageRecord], *, masked: bool) -> list[UsageRecord]:
    """Each record with `shown_destination` (masked or not) and `cost_money` (its cost as
    Money), for pages and exports."""
    found = list(records)
    for record in found:
        record.shown_destination = destination_shown(record.destination, masked=masked)
        record.cost_money = Money(record.cost, record.currency)
    return found


# --- A member's records, by pages ----------------------------------------------------------


@dataclass(frozen=True)
class UsagePosition:
    """A place in a member's usage, between records: the (started_at, id) of a record."""

    started_at: datetime.datetime
    id: int

    @classmethod
    def of(cls, record: UsageRecord) -> "UsagePosition":
        return cls(record.started_at, record.pk)

    @property
    def token(self) -> str:
        """The position as a URL writes it: microseconds since 1970 (UTC), "_", the id."""
        return f"{(self.started_at - _EPOCH) // _MICROSECOND}_{self.id}"

    @classmethod
    def from_token(cls, token: str) -> "UsagePosition | None":
        """The position a token names; None for anything else."""
        when, _separator, pk = str(token).partition("_")
        if not (when.isascii() and when.isdigit() and pk.isascii() and pk.isdigit()):
            return None
        if len(when) > 17 or len(pk) > 18:
            return None
        try:
            started_at = _EPOCH + int(when) * _MICROSECOND
        except OverflowError:
            return None
        return cls(started_at, int(pk))

    def older(self) -> Q:
        return Q(started_at__lte=self.started_at) & (
            Q(started_at__lt=self.started_at) | Q(id__lt=self.id)
        )

    def newer(self) -> Q:
        return Q(started_at__gte=self.started_at) & (
            Q(started_at__gt=self.started_at) | Q(id__gt=self.id)
        )


@dataclass(frozen=True)
class UsagePage:
    """Records newest first, and where the pages beside it start (None: no such page)."""

    records: list[UsageRecord]
    newer: UsagePosition | None
    older: UsagePosition | None
    # The page of the newest records (no position asked).
    latest: bool
    masked: bool


def member_records(
    *, organization: Organization, member: Member, kind: str = "", month=None
) -> QuerySet[UsageRecord]:
    """The member's calls and messages, newest first; `kind` "call" or "sms"; `month` (its
    first day) in the organization's time zone."""
    records = UsageRecord.objects.for_org(organization).filter(member=member)
    if kind:
        records = records.filter(kind=kind)
    if month is not None:
        start, end = month_bounds(organization, month)
        records = records.filter(started_at__gte=start, started_at__lt=end)
    return records.select_related("subscription__plan").order_by("-started_at", "-id")


def member_usage(
    *,
    organization: Organization,
    member: Member,
    viewer: Member,
    kind: str = "",
    month: datetime.date | None = None,
    before: UsagePosition | None = None,
    after: UsagePosition | None = None,
    size: int = PAGE_SIZE,
) -> UsagePage:
    """One page of the member's calls and messages as `viewer` reads them: the `size` records
    just older than `before`, or just newer than `after`, or the newest. Keyset pages along
    the (member, started_at, id) index: two or three queries whatever the history's length."""
    records = member_records(organization=organization, member=member, kind=kind, month=month)
    if after is not None:
        found = list(records.filter(after.newer()).order_by("started_at", "id")[: size + 1])
        has_newer = len(found) > size
        found = found[:size][::-1]
        oldest_shown = UsagePosition.of(found[-1]) if found else after
        newer = UsagePosition.of(found[0]) if has_newer else None
        older = oldest_shown if records.filter(oldest_shown.older()).exists() else None
    else:
        window = records.filter(before.older()) if before is not None else records
        found = list(window[: size + 1])
        older = UsagePosition.of(found[size - 1]) if len(found) > size else None
        found = found[:size]
        newer = None
        if before is not None:
            newest_shown = UsagePosition.of(found[0]) if found else before
            if records.filter(newest_shown.newer()).exists():
                newer = newest_shown
    masked = destinations_masked(organization=organization, viewer=viewer)
    return UsagePage(
        records=records_shown(found, masked=masked),
        newer=newer,
        older=older,
        latest=before is None and after is None,
        masked=masked,
    )


# --- What a member spent this month (rollups) ------------------------------------------------


@dataclass(frozen=True)
class CategorySpend:
    category: str
    label: str
    amount: Money
    # Seconds for calls, messages for SMS, 0 otherwise.
    quantity: int
    records: int


@dataclass(frozen=True)
class UsageSummary:
    month: datetime.date
    # Calls and messages.
    usage_spend: Money
    # Everything the member's rollups hold this month (features included).
    total: Money
    categories: list[CategorySpend]
    calls: int
    call_seconds: int
    messages: int


def category_label(category: str) -> str:
    if category.startswith(CALL_PREFIX):
        code = category[len(CALL_PREFIX) :]
        name = countries.name(code) if code != "ZZ" else ""
        if not name:
            return _("Calls to other destinations")
        return _("Calls to %(country)s") % {"country": name}
    return {
        SMS: _("SMS"),
        NUMBER: _("Online numbers"),
        VOICEMAIL: _("Voicemail"),
        SUBSCRIPTION: _("Calling subscriptions"),
    }.get(category, category)


def member_usage_summary(*, organization: Organization, member: Member) -> UsageSummary:
    """What the member spent since the 1st of this month (the organization's time zone), by
    category, with the number of calls, their seconds and the messages sent: one query over
    the member's daily rollups."""
    month = local_month(organization)
    currency = organization.currency
    rows = (
        DailyRollup.objects.for_org(organization)
        .filter(member=member, day__gte=month, day__lt=next_month(month))
        .values("category")
        .annotate(amount=Sum("amount"), quantity=Sum("quantity"), records=Sum("records"))
        .order_by("-amount", "category")
    )
    categories = [
        CategorySpend(
            category=row["category"],
            label=category_label(row["category"]),
            amount=Money(row["amount"] or 0, currency),
            quantity=int(row["quantity"] or 0),
            records=int(row["records"] or 0),
        )
        for row in rows
    ]
    calls = [row for row in categories if row.category.startswith(CALL_PREFIX)]
    sms = [row for row in categories if row.category == SMS]
    usage = sum((row.amount.amount for row in [*calls, *sms]), Decimal(0))
    return UsageSummary(
        month=month,
        usage_spend=Money(usage, currency),
        total=Money(sum((row.amount.amount for row in categories), Decimal(0)), currency),
        categories=categories,
        calls=sum(row.records for row in calls),
        call_seconds=sum(row.quantity for row in calls),
        messages=sum(row.quantity for row in sms),
    )


@dataclass(frozen=True)
class UsageSpend:
    """A member's usage spend (calls and messages) in the organization's currency units."""

    month: Decimal
    today: Decimal
    # The AVERAGE_DAYS days before today, together.
    previous_days: Decimal

    @property
    def daily_average(self) -> Decimal:
        return self.previous_days / AVERAGE_DAYS


def usage_spend_by_member(
    *, organization: Organization, member_ids: Sequence[int], today: datetime.date | None = None
) -> dict[int, UsageSpend]:
    """For each member: usage spend this month, today, and over the 30 days before today
    (days of the organization's time zone), from the rollups in one query. Members who spent
    nothing are at zero."""
    today = today or local_today(organization)
    month = today.replace(day=1)
    first_day = today - datetime.timedelta(days=AVERAGE_DAYS)
    rows = (
        DailyRollup.objects.for_org(organization)
        .filter(usage_categories(), member_id__in=list(member_ids), day__gte=min(month, first_day))
        .filter(day__lte=today)
        .values("member_id")
        .annotate(
            month=Sum("amount", filter=Q(day__gte=month)),
            today=Sum("amount", filter=Q(day=today)),
            previous=Sum("amount", filter=Q(day__gte=first_day, day__lt=today)),
        )
    )
    found = {
        row["member_id"]: UsageSpend(
            month=row["month"] or Decimal(0),
            today=row["today"] or Decimal(0),
            previous_days=row["previous"] or Decimal(0),
        )
        for row in rows
    }
    nothing = UsageSpend(Decimal(0), Decimal(0), Decimal(0))
    return {member_id: found.get(member_id, nothing) for member_id in member_ids}


# --- Minutes left ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesLeft:
    subscription: Subscription
    # None: the plan's minutes are unlimited.
    included_seconds: int | None
    used_seconds: int

    @property
    def unlimited(self) -> bool:
        return self.included_seconds is None

    @property
    def left_seconds(self) -> int | None:
        if self.included_seconds is None:
            return None
        return max(self.included_seconds - self.used_seconds, 0)

    @property
    def left_minutes(self) -> int | None:
        """Whole minutes left (a started minute is not left)."""
        left = self.left_seconds
        return None if left is None else left // 60


def minutes_left(*, organization: Organization, member: Member) -> list[MinutesLeft]:
    """Each calling subscription the member may use now, with its minutes of this calendar
    month (the organization's time zone) and the seconds used of them. Two queries."""
    subscriptions = list(
        Subscription.objects.for_org(organization)
        .filter(member=member, plan__kind=Plan.Kind.CALLING, status__in=Subscription.USABLE)
        .select_related("plan")
        .order_by("period_end", "id")
    )
    if not subscriptions:
        return []
    used = dict(
        IncludedMinutes.objects.for_org(organization)
        .filter(subscription__in=subscriptions, month=local_month(organization))
        .values_list("subscription_id", "used_seconds")
    )
    return [
        MinutesLeft(
            subscription=subscription,
            included_seconds=(
                None if subscription.plan.minutes is None else subscription.plan.minutes * 60
            ),
            used_seconds=used.get(subscription.pk, 0),
        )
        for subscription in subscriptions
    ]
