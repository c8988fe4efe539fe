"""Report periods: a calendar month or year in the organization's time zone.

Rollups are keyed by the organization's calendar day and month, so a period is a pair of dates;
`bounds` gives the matching instants for the few reads that filter timestamps (purchases,
allocations, call records), so that a call at 23:30 on January 31 in Paris counts in January.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import formats, timezone

MONTH = "month"
YEAR = "year"
# Reports reach back to 2000 and forward to the next year: enough for any real company and a
# guard against years that would overflow a date.
FIRST_YEAR = 2000


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date

    @classmethod
    def month_of(cls, day: datetime.date) -> "Period":
        return cls(MONTH, day.replace(day=1))

    @classmethod
    def year_of(cls, day: datetime.date) -> "Period":
        return cls(YEAR, day.replace(month=1, day=1))

    @classmethod
    def current(cls, kind: str, organization) -> "Period":
        today = today_of(organization)
        return cls.month_of(today) if kind == MONTH else cls.year_of(today)

    @property
    def end(self) -> datetime.date:
        """The first day after the period."""
        if self.kind == YEAR:
            return self.start.replace(year=self.start.year + 1)
        return _add_months(self.start, 1)

    @property
    def months(self) -> list[datetime.date]:
        """The first day of each month in the period."""
        if self.kind == MONTH:
            return [self.start]
        return [self.start.replace(month=month) for month in range(1, 13)]

    @property
    def days(self) -> list[datetime.date]:
        count = (self.end - self.start).days
        return [self.start + datetime.timedelta(days=offset) for offset in range(count)]

    @property
    def previous(self) -> "Period":
        if self.kind == YEAR:
            return Period(YEAR, self.start.replace(year=self.start.year - 1))
        return Period(MONTH, _add_months(self.start, -1))

    @property
    def next(self) -> "Period":
        return Period(self.kind, self.end)

    @property
    def a_year_before(self) -> "Period":
        return Period(self.kind, self.start.replace(year=self.start.year - 1))

    @property
    def param(self) -> str:
        """How the period is written in a URL: "2026-11" or "2026"."""
        return f"{self.start:%Y}" if self.kind == YEAR else f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        """ "November 2026" or "2026", in the active language."""
        if self.kind == YEAR:
            return str(self.start.year)
        return formats.date_format(self.start, "YEAR_MONTH_FORMAT")

    def bounds(self, organization) -> tuple[datetime.datetime, datetime.datetime]:
        """The period's first instant and the first instant after it, in the organization's
        time zone."""
        zone = ZoneInfo(organization.time_zone)
        return (
            datetime.datetime.combine(self.start, datetime.time(), tzinfo=zone),
            datetime.datetime.combine(self.end, datetime.time(), tzinfo=zone),
        )

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day < self.end

    def within_reach(self) -> bool:
        return FIRST_YEAR <= self.start.year <= timezone.now().year + 1


def today_of(organization) -> datetime.date:
    return timezone.now().astimezone(ZoneInfo(organization.time_zone)).date()


def _add_months(day: datetime.date, count: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)
