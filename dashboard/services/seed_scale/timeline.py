"""When things happen in a seeded organization, in its time zone.

Each month: purchases are paid on the 1st at 06:00, allocations land at 07:00, calls and
messages start between 08:00 and 20:00 (weekdays five times as busy as weekends), and
subscription periods start from the 2nd. So each wallet is funded before it is spent from.
Nothing is ever later than `now`.
"""

import datetime
import zoneinfo
from dataclasses import dataclass

PURCHASE_HOUR = 6
ALLOCATION_HOUR = 7
FIRST_CALL_HOUR = 8
LAST_CALL_HOUR = 20
WEEKDAY_WEIGHT, WEEKEND_WEIGHT = 5, 1


@dataclass(frozen=True)
class Month:
    first_day: datetime.date
    purchase_at: datetime.datetime
    allocation_at: datetime.datetime


@dataclass(frozen=True)
class Day:
    day: datetime.date
    # The first instant calls may start, and for how many seconds they may start after it.
    opens_at: datetime.datetime
    span: int
    weight: int


@dataclass(frozen=True)
class Timeline:
    time_zone: str
    now: datetime.datetime
    months: list[Month]
    days: list[Day]

    @property
    def start(self) -> datetime.datetime:
        """The first instant of the first month."""
        return at(self.months[0].first_day, 0, self.time_zone)


def at(day: datetime.date, hour: int, time_zone: str, minute: int = 0) -> datetime.datetime:
    """`day` at `hour`:`minute` in `time_zone`, as an aware instant (a time skipped by a DST
    change moves forward, as the zone's rules say)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    naive = datetime.datetime.combine(day, datetime.time(hour, minute))
    return naive.replace(tzinfo=zone).astimezone(datetime.UTC).astimezone(zone)


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def timeline_of(*, time_zone: str, months: int, now: datetime.datetime) -> Timeline:
    """The `months` calendar months ending with the current one (in `time_zone`)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    first = add_months(today.replace(day=1), -(months - 1))
    plans = []
    for offset in range(months):
        first_day = add_months(first, offset)
        plans.append(
            Month(
                first_day=first_day,
                purchase_at=at(first_day, PURCHASE_HOUR, time_zone),
                allocation_at=at(first_day, ALLOCATION_HOUR, time_zone),
            )
        )
    days = []
    day = first
    while day <= today:
        opens_at = at(day, FIRST_CALL_HOUR, time_zone)
        closes_at = min(at(day, LAST_CALL_HOUR, time_zone), now)
        span = int((closes_at - opens_at).total_seconds())
        if span > 60:
            weight = WEEKDAY_WEIGHT if day.weekday() < 5 else WEEKEND_WEIGHT
            days.append(Day(day=day, opens_at=opens_at, span=span, weight=weight))
        day += datetime.timedelta(days=1)
    return Timeline(time_zone=time_zone, now=now, months=plans, days=days)
