"""The organization's renewal policy (FeatureSettings): one row, created with the organization."""

from organizations.models import Organization
from subscriptions.models import FeatureSettings


def feature_settings_create(organization: Organization) -> None:
    """Create the row with the defaults (organizations.extensions calls this on creation)."""
    if not FeatureSettings.objects.for_org(organization).exists():
        FeatureSettings.objects.create(organization=organization)


def feature_settings(organization: Organization) -> FeatureSettings:
    """The organization's row (every organization has one)."""
    return FeatureSettings.objects.for_org(organization).get()
