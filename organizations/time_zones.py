"""Which time zones a country uses, to default an organization's time zone from its country.

Read from the tz database's zone.tab, beside the zone files the zoneinfo module uses (the
tz database lists each country's zones there, its main zone first; babel's copy of the
CLDR list is the fallback when the file is missing). A country whose zones all keep the same
clock (Germany's Berlin and Busingen) counts as having one zone.
"""

import functools
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

from babel.core import get_global

from organizations.models import TIME_ZONE_CHOICES


def _zone_tab() -> Path | None:
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return path
    return None


@functools.cache
def zones_by_country() -> dict[str, list[str]]:
    """{country code: [zone, …]}, main zone first, only zones the time zone field offers."""
    offered = {value for value, _label in TIME_ZONE_CHOICES}
    found: dict[str, list[str]] = {}
    path = _zone_tab()
    if path is not None:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            code, _coordinates, zone, *_comment = line.split("\t")
            found.setdefault(code, []).append(zone)
    else:
        found = {code: list(zones) for code, zones in get_global("territory_zones").items()}
    return {
        code: [zone for zone in zones if zone in offered]
        for code, zones in found.items()
        if any(zone in offered for zone in zones)
    }


def country_time_zones(country: str) -> list[str]:
    return list(zones_by_country().get(country or "", []))


def _clock(zone: str) -> tuple:
    """The zone's offsets this winter and this summer (in both hemispheres): zones that agree
    on both keep the same clock."""
    info = zoneinfo.ZoneInfo(zone)
    year = datetime.now(UTC).year
    days = (datetime(year, 1, 15, 12, tzinfo=UTC), datetime(year, 7, 15, 12, tzinfo=UTC))
    return tuple(day.astimezone(info).utcoffset() for day in days)


@functools.cache
def country_time_zone(country: str) -> str | None:
    """The country's time zone when it has one clock, or None (no zone known, or several:
    the person chooses)."""
    zones = country_time_zones(country)
    if not zones or len({_clock(zone) for zone in zones}) > 1:
        return None
    return zones[0]
