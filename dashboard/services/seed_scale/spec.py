"""What to seed: the size and settings of the organization (`manage.py seed_scale`'s options)."""

import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django_countries import countries

from skypemgr.errors import ApplicationError

MOST_MEMBERS = 100_000
MOST_MONTHS = 120
MOST_RECORDS = 50_000_000


@dataclass(frozen=True)
class ScaleSpec:
    slug: str = "scale"
    name: str = "Scale Test Company"
    members: int = 1000
    lists: int = 20
    # Calls; messages are added on top (a twentieth of the calls unless given).
    calls: int = 1_000_000
    messages: int | None = None
    months: int = 12
    # Subscriptions renewed monthly (three members in ten unless given).
    subscriptions: int | None = None
    currency: str = "EUR"
    time_zone: str = "Europe/Paris"
    country: str = "FR"
    # Makes two seeds of the same size alike (not identical: the clock moves on).
    random_seed: int = 2026

    @property
    def message_count(self) -> int:
        return self.calls // 20 if self.messages is None else self.messages

    @property
    def subscription_count(self) -> int:
        return self.members * 3 // 10 if self.subscriptions is None else self.subscriptions

    def check(self) -> None:
        """ApplicationError, saying which, when a setting is out of range."""
        try:
            validate_slug(self.slug)
        except ValidationError:
            raise ApplicationError(
                f"{self.slug!r} is not a valid address: use letters, digits, - and _."
            ) from None
        if not 2 <= self.members <= MOST_MEMBERS:
            raise ApplicationError(
                f"Members: from 2 (an owner and a finance member) to {MOST_MEMBERS}."
            )
        if not 1 <= self.lists <= self.members:
            raise ApplicationError("Lists: at least 1, and no more than members.")
        if not 1 <= self.months <= MOST_MONTHS:
            raise ApplicationError(f"Months: from 1 to {MOST_MONTHS}.")
        if not 0 <= self.calls <= MOST_RECORDS or not 0 <= self.message_count <= MOST_RECORDS:
            raise ApplicationError(f"Records: from 0 to {MOST_RECORDS}.")
        if not 0 <= self.subscription_count <= self.members * 3:
            raise ApplicationError("Subscriptions: from 0 to three per member.")
        if self.currency not in settings.CURRENCIES:
            raise ApplicationError(
                f"Currency {self.currency!r}: choose one of {', '.join(settings.CURRENCIES)}."
            )
        if self.time_zone not in zoneinfo.available_timezones():
            raise ApplicationError(f"Time zone {self.time_zone!r}: use a name like Europe/Paris.")
        if self.country not in dict(countries):
            raise ApplicationError(f"Country {self.country!r}: use a code like FR.")
