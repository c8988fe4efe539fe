from django.db import migrations


def sample_rates_load(apps, schema_editor):
    """The sample rate table (usage/fixtures/rates.csv), into an empty rate table only: a
    platform that loaded its own rates keeps them. Also reloads it into test databases that a
    transactional test emptied (tests/conftest.py)."""
    from usage.services.rates import rates_load, sample_rate_table

    Rate = apps.get_model("usage", "Rate")
    if Rate.objects.exists():
        return
    table = sample_rate_table()
    if table.errors:
        raise ValueError("usage/fixtures/rates.csv: " + "; ".join(map(str, table.errors[:5])))
    rates_load(model=Rate, rows=table.rows)


class Migration(migrations.Migration):
    dependencies = [("usage", "0002_settings_for_existing_organizations")]

    operations = [migrations.RunPython(sample_rates_load, migrations.RunPython.noop)]
