from django.db import migrations


def settings_and_fixed_currencies(apps, schema_editor):
    """Every organization gets its credit settings row (pages no longer make it on a read)
    and its wallet and system accounts (postings no longer make them), and an organization
    that has purchases gets its currency fixed, as a first purchase now does (at its first
    purchase's time)."""
    Organization = apps.get_model("organizations", "Organization")
    CreditSettings = apps.get_model("credit", "CreditSettings")
    Purchase = apps.get_model("credit", "Purchase")
    with_settings = set(CreditSettings.objects.values_list("organization_id", flat=True))
    missing = []
    for organization in Organization.objects.exclude(pk__in=with_settings).iterator():
        missing.append(
            CreditSettings(
                organization=organization,
                auto_recharge_threshold=0,
                auto_recharge_threshold_currency=organization.currency,
                auto_recharge_amount=0,
                auto_recharge_amount_currency=organization.currency,
                auto_recharge_monthly_max=0,
                auto_recharge_monthly_max_currency=organization.currency,
                low_balance_warning=0,
                low_balance_warning_currency=organization.currency,
            )
        )
    CreditSettings.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
    Account = apps.get_model("credit", "Account")
    kinds = ["organization", "payments", "usage", "subscriptions", "receivable"]
    existing = set(
        Account.objects.filter(member=None).values_list("organization_id", "kind").iterator()
    )
    accounts = [
        Account(
            organization=organization,
            kind=kind,
            balance=0,
            balance_currency=organization.currency,
        )
        for organization in Organization.objects.iterator()
        for kind in kinds
        if (organization.pk, kind) not in existing
    ]
    Account.objects.bulk_create(accounts, batch_size=1000, ignore_conflicts=True)
    first_purchases = (
        Purchase.objects.filter(organization__currency_locked_at__isnull=True)
        .order_by("organization_id", "created_at")
        .distinct("organization_id")
        .values_list("organization_id", "created_at")
    )
    for organization_id, created_at in first_purchases:
        Organization.objects.filter(pk=organization_id, currency_locked_at__isnull=True).update(
            currency_locked_at=created_at
        )


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0004_purchase_attention"),
        ("organizations", "0005_currency_stays_fixed"),
    ]

    operations = [
        migrations.RunPython(settings_and_fixed_currencies, migrations.RunPython.noop),
    ]
