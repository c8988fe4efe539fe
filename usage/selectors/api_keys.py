"""Reads of the organization's API keys (the settings page)."""

from django.db.models import QuerySet

from organizations.models import Organization
from usage.models import ApiKey


def api_keys_list(*, organization: Organization) -> QuerySet[ApiKey]:
    """The organization's keys, live ones first, newest first, with who created them."""
    return (
        ApiKey.objects.for_org(organization)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at", "-id")
    )
