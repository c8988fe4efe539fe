"""Usage alerts, checked after usage is recorded (the ingestion schedules this on commit)."""

from celery import shared_task

from organizations.models import Organization
from organizations.scoping import tenant_scope


@shared_task(name="usage.check_alerts", acks_late=True, ignore_result=True)
def check_usage_alerts(organization_id: int, member_ids: list[int]) -> None:
    from usage.services.alerts import usage_alerts_check

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return
    with tenant_scope(organization):
        usage_alerts_check(organization=organization, member_ids=member_ids)
