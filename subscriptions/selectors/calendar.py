"""The renewal calendar: what the organization's subscriptions will cost in the coming weeks.

Reads only Subscription and PlanPrice (the renewal engine owns Renewal). A subscription is
*due* at its period end; it renews at the current catalog price of its next period (the period
changed for the next renewal, else the current one) unless it ends there (auto-renew off, or
cancelled at the period end), in which case it is shown as ending and not counted. A live
subscription whose period end has passed (past due, waiting for credit) counts as due now.

Weeks are the organization's, Monday to Sunday in its time zone. The totals are grouped in SQL
by (week, plan, period, ending), then priced with one query (`prices_for`), so a page costs
the same few queries whatever the number of subscriptions.
"""

import datetime
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DateField, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from djmoney.money import Money

from credit.selectors.balances import company_balance
from organizations.models import Organization
from subscriptions.models import PlanPrice, Subscription
from subscriptions.periods import local_midnight

# The windows a person may choose, in days.
WINDOWS = (30, 60, 90)


def prices_for(*, currency: str, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Money]:
    """The catalog prices of many (plan id, period months) at once, in `currency`; a key the
    catalog does not sell is missing from the answer. One query (the bulk `price_for`)."""
    keys = set(keys)
    if not keys:
        return {}
    plan_ids = {plan_id for plan_id, _months in keys}
    months = {months for _plan_id, months in keys}
    rows = PlanPrice.objects.filter(
        currency=currency, plan_id__in=plan_ids, period_months__in=months
    ).values_list("plan_id", "period_months", "amount")
    return {
        (plan_id, period): Money(Decimal(amount), currency)
        for plan_id, period, amount in rows
        if (plan_id, period) in keys
    }


def _ends_there() -> Q:
    return Q(auto_renew=False) | Q(cancel_at_period_end=True)


def _due_within(
    organization: Organization, until: datetime.datetime, now: datetime.datetime | None = None
) -> QuerySet:
    """Live subscriptions due before `until`, each with `months` (of its next period) and
    `due_at` (its period end, or `now` when that has passed)."""
    return (
        Subscription.objects.for_org(organization)
        .filter(status__in=Subscription.LIVE, period_end__lt=until)
        .annotate(
            months=Coalesce("next_period_months", "period_months"),
            due_at=Greatest("period_end", Value(now or timezone.now())),
        )
    )


@dataclass
class Week:
    """One week of the calendar: Monday `start` to Sunday `end` (dates, organization time)."""

    start: datetime.date
    end: datetime.date
    total: Money
    renewing: int = 0
    ending: int = 0
    unpriced: int = 0
    balance_after: Money | None = None

    @property
    def count(self) -> int:
        return self.renewing + self.ending + self.unpriced

    @property
    def goes_below_zero(self) -> bool:
        return self.balance_after is not None and self.balance_after.amount < 0


@dataclass
class Calendar:
    organization: Organization
    days: int
    today: datetime.date
    until: datetime.date
    balance: Money
    weeks: list[Week] = field(default_factory=list)

    @property
    def total(self) -> Money:
        return sum((week.total for week in self.weeks), Money(0, self.organization.currency))

    @property
    def renewing(self) -> int:
        return sum(week.renewing for week in self.weeks)

    @property
    def ending(self) -> int:
        return sum(week.ending for week in self.weeks)

    @property
    def unpriced(self) -> int:
        return sum(week.unpriced for week in self.weeks)

    @property
    def first_short_week(self) -> Week | None:
        """The first week after which the projected balance is below zero."""
        return next((week for week in self.weeks if week.goes_below_zero), None)

    def week_of(self, day: datetime.date | None) -> Week | None:
        return next((week for week in self.weeks if week.start == day), None)


def _today(organization: Organization) -> datetime.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def window_end(organization: Organization, days: int) -> datetime.datetime:
    """The end of the window of `days`: midnight after the last day (organization time)."""
    last = _today(organization) + datetime.timedelta(days=days)
    return local_midnight(last + datetime.timedelta(days=1), organization.time_zone)


def renewal_calendar(*, organization: Organization, days: int) -> Calendar:
    """The weeks from this one to the one holding the window's last day (today + `days`),
    each with its renewals counted and totalled, and the company balance projected after it
    (the balance now, minus what is due up to the end of that week). Three queries."""
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    currency = organization.currency
    today = _today(organization)
    until = today + datetime.timedelta(days=days)
    groups = list(
        _due_within(organization, window_end(organization, days))
        .annotate(week=TruncWeek("due_at", output_field=DateField(), tzinfo=zone))
        .values("week", "plan_id", "months")
        .annotate(
            renewing=Count("pk", filter=~_ends_there()),
            ending=Count("pk", filter=_ends_there()),
        )
        .order_by()
    )
    prices = prices_for(
        currency=currency, keys=((group["plan_id"], group["months"]) for group in groups)
    )
    zero = Money(0, currency)
    weeks: dict[datetime.date, Week] = {}
    monday = _monday(today)
    while monday <= until:
        weeks[monday] = Week(start=monday, end=monday + datetime.timedelta(days=6), total=zero)
        monday += datetime.timedelta(days=7)
    for group in groups:
        week = weeks.get(group["week"])
        if week is None:  # pragma: no cover (the window's weeks hold every due date)
            continue
        week.ending += group["ending"]
        price = prices.get((group["plan_id"], group["months"]))
        if price is None:
            week.unpriced += group["renewing"]
        else:
            week.renewing += group["renewing"]
            week.total += price * group["renewing"]
    balance = company_balance(organization=organization)
    running = balance
    for week in weeks.values():
        running -= week.total
        week.balance_after = running
    return Calendar(
        organization=organization,
        days=days,
        today=today,
        until=until,
        balance=balance,
        weeks=list(weeks.values()),
    )


@dataclass(frozen=True)
class DueRow:
    """One subscription in the calendar, as its page and export show it."""

    subscription_id: int
    member: str
    plan: str
    due_on: datetime.date
    months: int
    price: Money | None
    overdue: bool
    auto_renew: bool
    cancel_at_period_end: bool

    @property
    def ending(self) -> bool:
        return not self.auto_renew or self.cancel_at_period_end

    @property
    def counted(self) -> bool:
        return not self.ending and self.price is not None


# What a row reads: plain values, not models (an export reads thousands of rows, and building
# a subscription, its member and its plan cost five times the query).
ROW_FIELDS = (
    "id",
    "plan_id",
    "months",
    "due_at",
    "period_end",
    "auto_renew",
    "cancel_at_period_end",
    "member__display_name",
    "member__email",
    "member__phone",
    "member__username",
    "plan__name",
    "plan__name_fr",
)


def _rows_query(
    organization: Organization, *, until: datetime.datetime, now: datetime.datetime | None = None
) -> QuerySet:
    return _due_within(organization, until, now).order_by("period_end", "id").values(*ROW_FIELDS)


def _member_name(values: dict) -> str:
    # As Member.__str__ names a member.
    return (
        values["member__display_name"]
        or values["member__email"]
        or str(values["member__phone"] or "")
        or values["member__username"]
    )


def _rows(organization: Organization, subscriptions: list[dict], now=None) -> list[DueRow]:
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    now = now or timezone.now()
    french = (get_language() or "").startswith("fr")
    prices = prices_for(
        currency=organization.currency,
        keys=((values["plan_id"], values["months"]) for values in subscriptions),
    )
    return [
        DueRow(
            subscription_id=values["id"],
            member=_member_name(values),
            # As Plan.display_name names a plan.
            plan=(french and values["plan__name_fr"]) or values["plan__name"],
            due_on=values["due_at"].astimezone(zone).date(),
            months=values["months"],
            price=prices.get((values["plan_id"], values["months"])),
            overdue=values["period_end"] < now,
            auto_renew=values["auto_renew"],
            cancel_at_period_end=values["cancel_at_period_end"],
        )
        for values in subscriptions
    ]


def week_rows(*, organization: Organization, week: Week, until: datetime.date) -> QuerySet:
    """The subscriptions due in `week` (and not after the window's last day `until`), in
    due order; slice it, then `due_rows` prices the slice."""
    zone = organization.time_zone
    start = local_midnight(week.start, zone)
    last = min(week.end, until) + datetime.timedelta(days=1)
    query = _rows_query(organization, until=local_midnight(last, zone))
    if week.start <= _today(organization):
        # This week holds what is overdue too (due now).
        return query
    return query.filter(period_end__gte=start)


def due_rows(*, organization: Organization, subscriptions: Iterable[dict]) -> list[DueRow]:
    """The rows of a slice of `week_rows` or `calendar_rows`, priced with one query."""
    return _rows(organization, list(subscriptions))


def calendar_rows(
    *, organization: Organization, days: int, batch: int = 1000
) -> Iterator[list[DueRow]]:
    """Every subscription of the window, in due order, in batches of `batch` rows read by
    keyset (period end, id): an export holds one batch in memory at a time. The window is
    fixed when this is called, however late the batches are read (a streamed download)."""
    now = timezone.now()
    query = _rows_query(organization, until=window_end(organization, days), now=now)
    return _batches(organization, query, batch, now)


def _batches(organization: Organization, query: QuerySet, batch: int, now) -> Iterator:
    after = None
    while True:
        page = query
        if after is not None:
            page = page.filter(Q(period_end__gt=after[0]) | Q(period_end=after[0], id__gt=after[1]))
        subscriptions = list(page[:batch])
        if not subscriptions:
            return
        yield _rows(organization, subscriptions, now)
        last = subscriptions[-1]
        after = (last["period_end"], last["id"])


def renewals_due_on(*, organization: Organization, day: datetime.date) -> tuple[Money, int]:
    """What renews on `day` (organization time): the total at catalog prices and how many
    (ending subscriptions and plans without a price in the currency are not counted)."""
    zone = organization.time_zone
    groups = (
        Subscription.objects.for_org(organization)
        .filter(
            status__in=Subscription.LIVE,
            period_end__gte=local_midnight(day, zone),
            period_end__lt=local_midnight(day + datetime.timedelta(days=1), zone),
        )
        .exclude(_ends_there())
        .annotate(months=Coalesce("next_period_months", "period_months"))
        .values("plan_id", "months")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return _priced(organization, list(groups))


def renewals_due_until(*, organization: Organization, day: datetime.date) -> tuple[Money, int]:
    """What renews from now to the end of `day` (overdue ones included), as `renewals_due_on`."""
    end = local_midnight(day + datetime.timedelta(days=1), organization.time_zone)
    groups = (
        _due_within(organization, end)
        .exclude(_ends_there())
        .values("plan_id", "months")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return _priced(organization, list(groups))


def _priced(organization: Organization, groups: list[dict]) -> tuple[Money, int]:
    prices = prices_for(
        currency=organization.currency,
        keys=((group["plan_id"], group["months"]) for group in groups),
    )
    total, count = Money(0, organization.currency), 0
    for group in groups:
        price = prices.get((group["plan_id"], group["months"]))
        if price is not None:
            total += price * group["count"]
            count += group["count"]
    return total, count


def organizations_with_renewals(*, days: int) -> list[int]:
    """Ids of the organizations with a subscription that renews within `days` (the sweep of
    the large-run notices; it reads every tenant, so the caller opens `all_tenants`)."""
    until = timezone.now() + datetime.timedelta(days=days + 1)
    return sorted(
        Subscription.objects.filter(
            status__in=Subscription.LIVE,
            period_end__lt=until,
            auto_renew=True,
            cancel_at_period_end=False,
        )
        .values_list("organization_id", flat=True)
        .distinct()
        .order_by()
    )


__all__ = [
    "WINDOWS",
    "Calendar",
    "DueRow",
    "Week",
    "calendar_rows",
    "due_rows",
    "organizations_with_renewals",
    "prices_for",
    "renewal_calendar",
    "renewals_due_on",
    "renewals_due_until",
    "week_rows",
    "window_end",
]
