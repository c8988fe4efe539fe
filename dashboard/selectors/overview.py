"""The Reports overview: the organization's money at a glance, read from the ledger's cached
balances, the spending rollups and a few bounded lists.

Every read is given the organization and costs a fixed number of queries, whatever the number
of members, transfers or calls: totals come from the accounts' cached balances and from the
rollups (DailyTotal, MonthlyRollup), never from raw usage; lists (activity, alerts, members
near their cap) are LIMIT queries along an index. `overview_build` reads it all (thirteen queries;
the activity feed is in dashboard.selectors.activity); the parts are usable on their own.

Days and months are the organization's (its time zone), like the rollups'.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from djmoney.money import Money

from credit.models import Account, CreditSettings, DailyTotal, MonthlyRollup, Purchase
from credit.selectors.ledger import organization_balances
from credit.selectors.settings import credit_settings
from dashboard.periods import today_of
from dashboard.selectors.activity import Feed, overview_activity
from organizations.models import Member, Organization
from subscriptions.selectors.calendar import renewals_due_until
from usage.models import UsageAlert
from usage.selectors.allowance import usage_categories

# The burn rate: the average day of the 30 whole days before today.
FORECAST_DAYS = 30
# A forecast further out than this reads "more than a year".
FORECAST_HORIZON = 365
RENEWAL_DAYS = 30
# Members at this share of their monthly cap are near it; at 1, at it.
CAP_NEAR = Decimal("0.8")
NEAR_CAP_SHOWN = 10
ALERT_DAYS = 30
ALERTS_SHOWN = 10
ATTENTION_SHOWN = 5
# The forecast is an alert below this many days.
FORECAST_ALERT_DAYS = 14


def same_day_last_year(day: datetime.date) -> datetime.date:
    """The same date a year before; February 29 becomes February 28."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


# --- Spend -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A period's spend and the same period a year before."""

    current: Money
    previous: Money

    @property
    def change(self) -> Decimal | None:
        """The change as a ratio (0.25: 25 % more); None when nothing was spent before."""
        if not self.previous.amount:
            return None
        return (self.current.amount - self.previous.amount) / self.previous.amount


@dataclass(frozen=True)
class Spend:
    """What members' usage and features cost: today, this month and this year so far, each
    against the same days a year before; and the 30 days before today, for the forecast."""

    today: datetime.date
    day: Comparison
    month: Comparison
    year: Comparison
    # The FORECAST_DAYS whole days before today, all categories.
    recent: Money

    @property
    def daily_average(self) -> Money:
        return self.recent / FORECAST_DAYS


def overview_spend(*, organization: Organization, today: datetime.date | None = None) -> Spend:
    """Spend from the organization's day totals (DailyTotal), in two queries: this month, this
    year and last year's whole months, then the single days (today, the same day last year,
    last year's month up to that day, and the last 30 days).

    This year is January 1 to today; last year, January 1 to the same date last year: its
    whole months from the monthly rows, then its part month from the daily rows."""
    today = today or today_of(organization)
    currency = organization.currency
    month, year = today.replace(day=1), today.replace(month=1, day=1)
    last_year_day = same_day_last_year(today)
    last_year_month = last_year_day.replace(day=1)
    last_year = year.replace(year=year.year - 1)
    months = (
        DailyTotal.objects.for_org(organization)
        .filter(day__gte=last_year, day__lte=today)
        .aggregate(
            this_month=Sum("amount", filter=Q(day__gte=month)),
            this_year=Sum("amount", filter=Q(day__gte=year)),
            last_year_before=Sum("amount", filter=Q(day__lt=last_year_month)),
        )
    )
    recent_from = today - datetime.timedelta(days=FORECAST_DAYS)
    days = (
        DailyTotal.objects.for_org(organization)
        .filter(
            Q(day__gte=last_year_month, day__lte=last_year_day)
            | Q(day__gte=recent_from, day__lte=today)
        )
        .aggregate(
            today=Sum("amount", filter=Q(day=today)),
            today_last_year=Sum("amount", filter=Q(day=last_year_day)),
            month_last_year=Sum(
                "amount", filter=Q(day__gte=last_year_month, day__lte=last_year_day)
            ),
            recent=Sum("amount", filter=Q(day__gte=recent_from, day__lt=today)),
        )
    )

    def money(value) -> Money:
        return Money(value or Decimal(0), currency)

    month_last_year = money(days["month_last_year"])
    year_last_year = money(months["last_year_before"]) + month_last_year
    return Spend(
        today=today,
        day=Comparison(money(days["today"]), money(days["today_last_year"])),
        month=Comparison(money(months["this_month"]), month_last_year),
        year=Comparison(money(months["this_year"]), year_last_year),
        recent=money(days["recent"]),
    )


# --- Forecast ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """How long the credit lasts at the current burn rate: what the company and its members
    hold, over the average day of the last 30 days."""

    available: Money
    daily_spend: Money
    today: datetime.date

    @property
    def has_spend(self) -> bool:
        return self.daily_spend.amount > 0

    @property
    def days_left(self) -> int | None:
        """Whole days left; None without spend to measure by."""
        if not self.has_spend:
            return None
        days = (self.available.amount / self.daily_spend.amount).to_integral_value(ROUND_FLOOR)
        return int(max(days, 0))

    @property
    def beyond_horizon(self) -> bool:
        return self.days_left is not None and self.days_left > FORECAST_HORIZON

    @property
    def runs_out_on(self) -> datetime.date | None:
        if self.days_left is None or self.beyond_horizon:
            return None
        return self.today + datetime.timedelta(days=self.days_left)

    @property
    def running_low(self) -> bool:
        return self.days_left is not None and self.days_left < FORECAST_ALERT_DAYS


def overview_forecast(*, balances: dict, spend: Spend) -> Forecast:
    """The forecast from `organization_balances` and `overview_spend` (no query)."""
    return Forecast(
        available=balances["company"] + balances["members"],
        daily_spend=spend.daily_average,
        today=spend.today,
    )


# --- Renewals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Renewals:
    total: Money
    count: int
    days: int


def overview_renewals(*, organization: Organization, today: datetime.date) -> Renewals:
    """What renews from now to the end of the RENEWAL_DAYS-th day (overdue renewals
    included), at catalog prices: the renewal calendar's own count (two queries)."""
    total, count = renewals_due_until(
        organization=organization, day=today + datetime.timedelta(days=RENEWAL_DAYS)
    )
    return Renewals(total=total, count=count, days=RENEWAL_DAYS)


# --- Members near their cap --------------------------------------------------------------------


@dataclass(frozen=True)
class CapLine:
    member: Member
    cap: Money
    spent: Money

    @property
    def share(self) -> Decimal:
        return self.spent.amount / self.cap.amount

    @property
    def at_cap(self) -> bool:
        return self.share >= 1

    @property
    def bar(self) -> int:
        """The share as a bar's width, 0 to 100."""
        return int(min(self.share * 100, Decimal(100)))


@dataclass(frozen=True)
class NearCap:
    lines: list[CapLine]
    # Every member at or above CAP_NEAR of their cap (lines shows the first NEAR_CAP_SHOWN).
    count: int


def overview_near_cap(
    *, organization: Organization, today: datetime.date, limit: int = NEAR_CAP_SHOWN
) -> NearCap:
    """Members whose usage this month (calls and messages, the categories a cap limits, from
    MonthlyRollup) is at least CAP_NEAR of their wallet's monthly cap, the closest to it
    first; former members are left out. One query: the count of all rides along as a window
    over the filtered rows."""
    currency = organization.currency
    month = today.replace(day=1)
    spent = (
        MonthlyRollup.objects.for_org(organization)
        .filter(usage_categories(), member_id=OuterRef("member_id"), month=month)
        .values("member_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    amount = DecimalField(max_digits=19, decimal_places=4)
    wallets = (
        Account.objects.for_org(organization)
        .filter(kind=Account.Kind.MEMBER, monthly_spending_cap__gt=0)
        .exclude(member__status=Member.Status.REMOVED)
        .annotate(spent=Coalesce(Subquery(spent, output_field=amount), Value(Decimal(0))))
        .filter(spent__gte=ExpressionWrapper(F("monthly_spending_cap") * CAP_NEAR, amount))
        .annotate(
            share=ExpressionWrapper(
                F("spent") / F("monthly_spending_cap"),
                DecimalField(max_digits=30, decimal_places=10),
            ),
            everyone=Window(Count("pk")),
        )
        .select_related("member")
        .order_by("-share", "member__display_name", "member_id")[:limit]
    )
    rows = list(wallets)
    lines = [
        CapLine(
            member=wallet.member,
            cap=Money(wallet.monthly_spending_cap.amount, currency),
            spent=Money(wallet.spent, currency),
        )
        for wallet in rows
    ]
    return NearCap(lines=lines, count=rows[0].everyone if rows else 0)


# --- Alerts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alerts:
    """What needs someone's eyes: usage alerts of the last 30 days, payments that could not be
    credited, company auto-recharge turned off by a refused charge, the company balance under
    its warning level, money owed, credit running out, renewals the balance cannot pay."""

    usage: list[UsageAlert] = field(default_factory=list)
    attention: list[Purchase] = field(default_factory=list)
    attention_count: int = 0
    auto_recharge_off: str = ""
    low_balance: Money | None = None
    owed: Money | None = None
    runs_out_in: int | None = None
    renewals_short: Money | None = None

    @property
    def count(self) -> int:
        return (
            len(self.usage)
            + self.attention_count
            + sum(
                bool(value)
                for value in (
                    self.auto_recharge_off,
                    self.low_balance,
                    self.owed,
                    self.runs_out_in is not None,
                    self.renewals_short,
                )
            )
        )


def overview_alerts(
    *,
    organization: Organization,
    settings_row: CreditSettings,
    balances: dict,
    forecast: Forecast,
    renewals: Renewals,
    now: datetime.datetime | None = None,
) -> Alerts:
    """The alerts, from what the overview already read and two LIMIT queries (usage alerts
    with their members; purchases needing attention, with their count as a window)."""
    since = (now or timezone.now()) - datetime.timedelta(days=ALERT_DAYS)
    usage = list(
        UsageAlert.objects.for_org(organization)
        .filter(created_at__gte=since)
        .select_related("member")
        .order_by("-created_at", "-id")[:ALERTS_SHOWN]
    )
    attention = list(
        Purchase.objects.for_org(organization)
        .exclude(attention="")
        .annotate(everyone=Window(Count("pk")))
        .order_by(F("attention_at").desc(nulls_last=True), "-id")[:ATTENTION_SHOWN]
    )
    company = balances["company"]
    warning = settings_row.low_balance_warning
    low = warning.amount > 0 and company < warning
    auto_off = (
        settings_row.auto_recharge_disabled_reason if not settings_row.auto_recharge_enabled else ""
    )
    short = None
    if renewals.count and renewals.total > company:
        short = renewals.total - company
    return Alerts(
        usage=usage,
        attention=attention,
        attention_count=attention[0].everyone if attention else 0,
        auto_recharge_off=auto_off,
        low_balance=warning if low else None,
        owed=balances["owed"] if balances["owed"].amount > 0 else None,
        runs_out_in=forecast.days_left if forecast.running_low else None,
        renewals_short=short,
    )


# --- Everything --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    today: datetime.date
    balances: dict
    spend: Spend
    forecast: Forecast
    auto_recharge: CreditSettings
    renewals: Renewals
    near_cap: NearCap
    activity: Feed
    alerts: Alerts


def overview_build(*, organization: Organization, now: datetime.datetime | None = None) -> Overview:
    """The whole overview, in a fixed number of queries (about thirteen), whatever the size of
    the organization."""
    now = now or timezone.now()
    today = today_of(organization)
    balances = organization_balances(organization)
    spend = overview_spend(organization=organization, today=today)
    forecast = overview_forecast(balances=balances, spend=spend)
    settings_row = credit_settings(organization)
    renewals = overview_renewals(organization=organization, today=today)
    return Overview(
        today=today,
        balances=balances,
        spend=spend,
        forecast=forecast,
        auto_recharge=settings_row,
        renewals=renewals,
        near_cap=overview_near_cap(organization=organization, today=today),
        activity=overview_activity(organization=organization, now=now),
        alerts=overview_alerts(
            organization=organization,
            settings_row=settings_row,
            balances=balances,
            forecast=forecast,
            renewals=renewals,
            now=now,
        ),
    )


__all__ = [
    "Alerts",
    "CapLine",
    "Comparison",
    "Forecast",
    "NearCap",
    "Overview",
    "Renewals",
    "Spend",
    "overview_alerts",
    "overview_build",
    "overview_forecast",
    "overview_near_cap",
    "overview_renewals",
    "overview_spend",
    "same_day_last_year",
]
