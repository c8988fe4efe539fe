from django.db import migrations


def create_settings(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    UsageSettings = apps.get_model("usage", "UsageSettings")
    UsageSettings.objects.bulk_create(
        [UsageSettings(organization_id=pk) for pk in Organization.objects.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("usage", "0001_initial"), ("organizations", "__first__")]

    operations = [migrations.RunPython(create_settings, migrations.RunPython.noop)]
