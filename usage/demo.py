"""The demo company's calls and messages (registered with organizations.extensions): a month
of the staff's usage, recorded through the real ingestion (priced, debited, rolled up), as if
the company's phone system had posted it. Nothing is recorded where no rates are loaded."""

import datetime
import random

from django.utils import timezone

from organizations.models import Member, Organization
from usage.models import Rate, UsageRecord
from usage.services.ingest import UsageInput, usage_records_ingest

DESTINATIONS = [
    "+33145678901",
    "+33472123456",
    "+33612345678",
    "+33798765432",
    "+442071234567",
    "+447700900123",
    "+4930123456",
    "+14155550123",
    "+34912345678",
]
DAYS = 30


def demo_usage_load(organization: Organization, people: dict[str, Member]) -> None:
    if not Rate.objects.filter(currency=organization.currency).exists():
        return
    chance = random.Random(f"demo-usage-{organization.slug}")  # noqa: S311 (demo data)
    now = timezone.now()
    records = []
    for role, member in sorted(people.items()):
        for day in range(DAYS, 0, -1):
            for number in range(chance.randint(0, 4)):
                started = now - datetime.timedelta(
                    days=day, hours=chance.randint(0, 9), minutes=chance.randint(0, 59)
                )
                destination = chance.choice(DESTINATIONS)
                if chance.random() < 0.2:
                    kind, seconds, units = UsageRecord.Kind.SMS, 0, chance.randint(1, 2)
                else:
                    kind, seconds, units = UsageRecord.Kind.CALL, chance.randint(5, 900), 0
                records.append(
                    UsageInput(
                        member=member,
                        kind=kind,
                        destination=destination,
                        started_at=started,
                        seconds=seconds,
                        units=units,
                        source=UsageRecord.Source.API,
                        external_id=f"demo-{role}-{day}-{number}",
                    )
                )
    records.sort(key=lambda record: record.started_at)
    usage_records_ingest(organization=organization, records=records)
