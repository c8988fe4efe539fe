"""Roll up the feature charges and refunds posted before the rollups existed, so that
`check_rollups` holds on databases made before them (a new database has none)."""

import re
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import migrations

KEY = re.compile(r"^subscription:(\d+):period:")
CATEGORY = {"number": "number", "voicemail": "voicemail"}


def roll_up(apps, schema_editor):
    Transfer = apps.get_model("credit", "Transfer")
    DailyRollup = apps.get_model("credit", "DailyRollup")
    Subscription = apps.get_model("subscriptions", "Subscription")
    Organization = apps.get_model("organizations", "Organization")
    transfers = Transfer.objects.filter(kind__in=["subscription_charge", "subscription_refund"])
    if not transfers.exists() or DailyRollup.objects.exists():
        return
    zones = dict(Organization.objects.values_list("pk", "time_zone"))
    subscriptions = {
        pk: (member, kind)
        for pk, member, kind in Subscription.objects.values_list("pk", "member_id", "plan__kind")
    }
    totals = defaultdict(lambda: [Decimal(0), 0])
    for transfer in transfers.iterator():
        match = KEY.match(transfer.idempotency_key)
        if not match or int(match.group(1)) not in subscriptions:
            continue
        member, kind = subscriptions[int(match.group(1))]
        day = transfer.created_at.astimezone(ZoneInfo(zones[transfer.organization_id])).date()
        key = (transfer.organization_id, member, day, CATEGORY.get(kind, "subscription"))
        charge = transfer.kind == "subscription_charge"
        amount = getattr(transfer.amount, "amount", transfer.amount)
        totals[key][0] += amount if charge else -amount
        totals[key][1] += 1 if charge else 0
    DailyRollup.objects.bulk_create(
        DailyRollup(
            organization_id=organization,
            member_id=member,
            day=day,
            category=category,
            amount=amount,
            records=records,
        )
        for (organization, member, day, category), (amount, records) in totals.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0008_dailyrollup"),
        ("subscriptions", "0002_catalog_and_settings"),
    ]

    operations = [migrations.RunPython(roll_up, migrations.RunPython.noop)]
