"""Django admin: platform staff follow exports and scheduled reports in every organization,
and change none of them there."""

import pytest
from django.test import Client

from dashboard.models import ExportJob, ReportSchedule
from dashboard.services.schedules import report_schedule_subscribe
from tests.factories import ExportJobFactory

EXPORTS = "/admin/dashboard/exportjob/"
SCHEDULES = "/admin/dashboard/reportschedule/"


@pytest.fixture
def staff(platform_staff) -> Client:
    return platform_staff


def test_staff_see_every_organizations_exports_with_progress_and_error(org, other_org, staff):
    done = ExportJobFactory(organization=org)
    failed = ExportJobFactory(
        organization=other_org,
        status="failed",
        progress_done=1200,
        progress_total=4800,
        error="The worker stopped answering.",
    )

    listing = staff.get(EXPORTS)
    assert listing.status_code == 200
    page = listing.content.decode()
    assert org.name in page
    assert other_org.name in page
    assert "25 % (1,200 / 4,800)" in page
    assert "100 % (0 / 0)" in page

    detail = staff.get(f"{EXPORTS}{failed.pk}/change/").content.decode()
    assert "The worker stopped answering." in detail
    for query in ({"status": "failed"}, {"q": "Globex"}):
        found = staff.get(EXPORTS, query).content.decode()
        assert f"{EXPORTS}{failed.pk}/change/" in found
        assert f"{EXPORTS}{done.pk}/change/" not in found


def test_exports_are_not_changed_in_the_admin(org, staff):
    job = ExportJobFactory(organization=org)
    assert staff.get(f"{EXPORTS}add/").status_code == 403
    changed = staff.post(f"{EXPORTS}{job.pk}/change/", {"status": "queued"})
    assert changed.status_code == 403
    assert staff.post(f"{EXPORTS}{job.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ExportJob.objects.for_org(org).get(pk=job.pk).status == "done"


def test_staff_see_who_gets_the_monthly_report(org, finance, staff):
    schedule = report_schedule_subscribe(organization=org, actor=finance)
    listing = staff.get(SCHEDULES).content.decode()
    assert org.name in listing
    assert staff.get(f"{SCHEDULES}{schedule.pk}/change/").status_code == 200
    assert staff.get(f"{SCHEDULES}add/").status_code == 403
    assert staff.post(f"{SCHEDULES}{schedule.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ReportSchedule.objects.for_org(org).filter(pk=schedule.pk, active=True).exists()
