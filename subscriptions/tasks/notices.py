"""The large-run notices: a daily sweep over the organizations with renewals ahead, one task
per organization, which emails its owners and admins (once per organization and day: the
outbox keys of subscriptions.services.large_runs)."""

from celery import shared_task

from organizations.models import Organization
from organizations.scoping import all_tenants, tenant_scope
from subscriptions.selectors.calendar import organizations_with_renewals
from subscriptions.services.large_runs import large_run_notices_send

# notice_days is at most 30 (FeatureSettings): no organization looks further ahead.
LONGEST_NOTICE = 30

__all__ = ["large_run_notices", "large_run_notices_due"]


@shared_task(name="subscriptions.large_run_notices_due")
def large_run_notices_due() -> int:
    """Beat, daily: one task per organization with a renewal in the next 30 days."""
    with all_tenants("the large-run sweep finds the organizations with renewals ahead"):
        organization_ids = organizations_with_renewals(days=LONGEST_NOTICE)
    for organization_id in organization_ids:
        large_run_notices.delay(organization_id)
    return len(organization_ids)


@shared_task(name="subscriptions.large_run_notices")
def large_run_notices(organization_id: int) -> int:
    """Email the organization's owners and admins about the large runs ahead; a missing
    organization is a no-op. Returns how many large days were found."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with tenant_scope(organization):
        return len(large_run_notices_send(organization=organization))
