"""Tasks of the monthly report by email (dashboard.services.schedules).

- `report_schedule_send_due()` (beat, hourly on the first days of a month): one task per
  report due, for each member whose organization has reached the 1st, 6 a.m., in its time zone.
- `report_schedule_send(organization_id, schedule_id, month)`: send it, once per (schedule,
  month) whatever runs twice.
"""

import datetime

from celery import shared_task

from dashboard.services import schedules as services
from organizations.models import Organization
from organizations.scoping import tenant_scope

__all__ = ["report_schedule_send", "report_schedule_send_due"]


@shared_task(name="dashboard.report_schedule_send_due")
def report_schedule_send_due() -> int:
    due = services.report_schedules_due()
    for organization_id, schedule_id, month in due:
        report_schedule_send.delay(organization_id, schedule_id, month)
    return len(due)


@shared_task(name="dashboard.report_schedule_send", acks_late=True)
def report_schedule_send(organization_id: int, schedule_id: int, month: str) -> bool:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return False
    with tenant_scope(organization):
        return services.report_schedule_send(
            organization=organization,
            schedule_id=schedule_id,
            month=datetime.date.fromisoformat(month),
        )
