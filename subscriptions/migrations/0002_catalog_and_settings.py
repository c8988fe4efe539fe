import json
from pathlib import Path

from django.db import migrations

CATALOG = Path(__file__).resolve().parent.parent / "fixtures" / "catalog.json"


def catalog_load(apps, schema_editor):
    """The catalog as shipped (subscriptions/fixtures/catalog.json): plans that exist already
    (by code) are left as platform staff edited them."""
    Plan = apps.get_model("subscriptions", "Plan")
    PlanPrice = apps.get_model("subscriptions", "PlanPrice")
    existing = set(Plan.objects.values_list("code", flat=True))
    for entry in json.loads(CATALOG.read_text(encoding="utf-8")):
        if entry["code"] in existing:
            continue
        prices = entry.pop("prices")
        plan = Plan.objects.create(**entry)
        PlanPrice.objects.bulk_create(PlanPrice(plan=plan, **price) for price in prices)


def settings_for_every_organization(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    FeatureSettings = apps.get_model("subscriptions", "FeatureSettings")
    FeatureSettings.objects.bulk_create(
        (FeatureSettings(organization=organization) for organization in Organization.objects.all()),
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0001_initial"),
        ("organizations", "0005_currency_stays_fixed"),
    ]

    operations = [
        migrations.RunPython(catalog_load, migrations.RunPython.noop),
        migrations.RunPython(settings_for_every_organization, migrations.RunPython.noop),
    ]
