"""The organization's usage policy (UsageSettings): one row, created with the organization."""

from organizations.models import Organization
from usage.models import UsageSettings


def usage_settings_create(organization: Organization) -> None:
    """Create the organization's usage settings (with the organization; never on a read)."""
    if not UsageSettings.objects.for_org(organization).exists():
        UsageSettings.objects.create(organization=organization)


def usage_settings(organization: Organization) -> UsageSettings:
    return UsageSettings.objects.for_org(organization).get()
