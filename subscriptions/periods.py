"""Subscription periods: whole months in the organization's time zone.

A period starts when the feature is assigned and ends at midnight, in the organization's time
zone, on the anchor day of the month `months` later. The anchor day is the day of the month it
was assigned on: bought on January 31st, it renews on February 28th (29th in a leap year), then
on March 31st. Later periods start where the previous one ended.
"""

import calendar
import datetime
import zoneinfo
from decimal import ROUND_DOWN, Decimal

from skypemgr.amounts import currency_decimals


def _add_months(day: datetime.date, months: int, anchor_day: int) -> datetime.date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(anchor_day, last))


def local_midnight(day: datetime.date, time_zone: str) -> datetime.datetime:
    """The first instant of `day` in `time_zone` (aware)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    naive = datetime.datetime.combine(day, datetime.time.min)
    # A zone that skips midnight (a DST change at 00:00) starts the day at the first valid
    # instant: fold=0 gives the offset before the change, which normalizes forward.
    moment = naive.replace(tzinfo=zone)
    return moment.astimezone(datetime.UTC).astimezone(zone)


def period_end(
    start: datetime.datetime, months: int, *, anchor_day: int, time_zone: str
) -> datetime.datetime:
    """When a period of `months` starting at `start` ends: midnight (in `time_zone`) on the
    anchor day of the month `months` later."""
    zone = zoneinfo.ZoneInfo(time_zone)
    local_day = start.astimezone(zone).date()
    return local_midnight(_add_months(local_day, months, anchor_day), time_zone)


def anchor_day_of(moment: datetime.datetime, time_zone: str) -> int:
    """The day of the month `moment` falls on in `time_zone`."""
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone)).day


def prorated(amount, *, currency: str, start, end, now) -> Decimal:
    """The part of `amount` that pays for the rest of the period [start, end) after `now`,
    rounded down to the currency's smallest unit (a refund never exceeds what was paid)."""
    total = (end - start).total_seconds()
    left = max(0.0, min(total, (end - now).total_seconds()))
    if total <= 0 or left <= 0:
        return Decimal("0")
    share = Decimal(str(left)) / Decimal(str(total))
    unit = Decimal(1).scaleb(-currency_decimals(currency))
    return (Decimal(amount) * share).quantize(unit, rounding=ROUND_DOWN)
