"""Exports made in the background: a year of call and message records as CSV, written in
batches by a worker, followed on its page, emailed when ready, downloaded only by those who
may read it."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation

from dashboard.models import ExportChunk, ExportJob
from dashboard.periods import MONTH, YEAR, Period
from dashboard.reports import ReportFilters
from dashboard.services import exports as services
from dashboard.services.exports import (
    export_job_request,
    export_job_run,
    export_jobs_expire,
    export_jobs_stuck,
)
from dashboard.tasks.exports import export_run
from members.models import ListMembership
from organizations.roles import Role
from outbox.models import OutboundMessage
from tests.dashboard.support import csv_rows, url, usage
from tests.factories import MemberFactory, MemberListFactory
from tests.integration.conftest import celery_tasks, celery_worker_thread  # noqa: F401
from tests.integration.waiting import wait_for
from tests.usage.support import call, fund, give, sms
from usage.models import UsageRecord
from usage.services.settings import usage_settings_update

NOW = datetime.datetime(2026, 12, 10, 9, 0, tzinfo=datetime.UTC)
YEAR_2026 = Period(YEAR, datetime.date(2026, 1, 1))


@pytest.fixture(autouse=True)
def _december_2026(request):
    """December 10, 2026, for every test but those with a real worker (whose broker and
    timers need the real clock)."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def year_of_calls(org, employee, finance):
    """A call and a message on the 3rd of each month of 2026 (24 records), and a call at
    23:30 on December 31, 2025 in Paris (22:30 UTC), which is 2025's."""
    fund(org, 1000)
    give(org, employee, 100)
    give(org, finance, 100)
    records = []
    for month in range(1, 13):
        when = datetime.datetime(2026, month, 3, 9, 15, tzinfo=datetime.UTC)
        if when > NOW:
            continue
        records += [
            call(employee, "+33123456789", 90 + month, started_at=when),
            sms(finance, "+33612345678", 1, started_at=when + datetime.timedelta(minutes=1)),
        ]
    new_years_eve = datetime.datetime(2025, 12, 31, 22, 30, tzinfo=datetime.UTC)
    records.append(call(employee, "+4930123456", 60, started_at=new_years_eve))
    usage(org, employee, *records)
    return records


def _request(client, org, **data):
    form = {"report": "year", "year": "2026", "email_when_ready": "on", **data}
    return client.post(url(org, "export-list"), form)


def _download(client, org, job) -> list[list[str]]:
    response = client.get(url(org, "export-file", export_id=job.pk))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(content)
    return csv_rows(content)


def test_a_year_of_records_exported_followed_and_emailed(
    org, finance, login, year_of_calls, django_capture_on_commit_callbacks
):
    client = login(finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = _request(client, org)

    job = ExportJob.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == url(org, "export-detail", export_id=job.pk)
    assert job.status == ExportJob.Status.DONE
    assert job.progress_done == job.progress_total == 24, "12 months of a call and an SMS"
    assert job.file_name == "skypemgr-acme-sarl-2026-calls-and-messages.csv"

    page = client.get(response["Location"]).content.decode()
    assert "The file is ready: 24 calls and messages." in page
    assert url(org, "export-file", export_id=job.pk) in page
    assert "hx-trigger" not in page, "a finished export is not polled"

    rows = _download(client, org, job)
    assert rows[0] == [
        "Date", "Time", "Member", "Department", "Kind", "Direction", "Destination", "Country",
        "Duration", "Messages", "From a subscription", "Cost", "Currency",
    ]  # fmt: skip
    assert len(rows) == 1 + 24
    first = rows[1]
    # 09:15 UTC is 10:15 in Paris; oldest first.
    assert first[:2] == ["01/03/2026", "10:15:00"]
    assert first[4:9] == ["Call", "Outgoing", "+33123456789", "FR", "0:01:31"]
    assert first[12] == "EUR"
    records = UsageRecord.objects.for_org(org).filter(started_at__year=2026).order_by("started_at")
    assert [Decimal(row[11]) for row in rows[1:]] == [record.cost for record in records]
    assert "2025" not in "".join(row[0] for row in rows[1:]), "the 31st in Paris is 2025's"

    [email] = mail.outbox
    assert email.to == [finance.email]
    assert "Your export is ready: 2026, Acme SARL" in email.subject
    assert f"/o/acme-sarl/reports/exports/{job.pk}/" in email.body
    assert OutboundMessage.objects.get().key == f"dashboard:export:{job.pk}:to:{finance.pk}"


def test_the_file_is_written_in_batches_and_the_progress_reaches_the_total(
    org, finance, year_of_calls, monkeypatch, login
):
    monkeypatch.setattr(services, "BATCH", 5)
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip

    export_run(org.pk, job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert job.progress_done == job.progress_total == 24
    assert job.chunks == 5
    chunks = ExportChunk.objects.for_org(org).filter(job=job).order_by("index")
    assert [chunk.index for chunk in chunks] == [0, 1, 2, 3, 4]
    assert job.file_size == sum(len(chunk.data) for chunk in chunks)
    rows = _download(login(finance), org, job)
    assert len(rows) == 25
    assert sum(row[0] == "Date" for row in rows) == 1, "the headers once, at the top"
    assert mail.outbox == []


def test_a_second_run_changes_nothing(org, finance, year_of_calls):
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=True,
    )  # fmt: skip
    export_run(org.pk, job.pk)
    chunks = list(ExportChunk.objects.for_org(org).filter(job=job).values_list("pk", flat=True))

    assert export_run(org.pk, job.pk) is None

    job.refresh_from_db()
    assert job.attempt == 1
    assert list(ExportChunk.objects.for_org(org).filter(job=job).values_list("pk", flat=True)) == (
        chunks
    )
    assert OutboundMessage.objects.filter(key__startswith="dashboard:export:").count() == 1


def test_a_running_export_with_a_live_heartbeat_is_left_to_its_worker(org, finance, year_of_calls):
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip
    ExportJob.objects.for_org(org).filter(pk=job.pk).update(
        status="running", attempt=1, heartbeat_at=NOW - datetime.timedelta(minutes=2)
    )
    assert export_job_run(organization=org, job_id=job.pk) is None

    # Its worker died: ten minutes without a heartbeat, the sweep sends it again.
    with time_machine.travel(NOW + datetime.timedelta(minutes=11), tick=False):
        assert export_jobs_stuck() == [(org.pk, job.pk)]
        finished = export_job_run(organization=org, job_id=job.pk)
    assert finished.status == ExportJob.Status.DONE
    assert finished.attempt == 2
    assert finished.progress_done == 24


def test_a_run_that_lost_its_export_stops(org, finance, year_of_calls, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 5)
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip
    job, _last_id = services._take(org, job.pk)
    # Another run takes it over meanwhile.
    ExportJob.objects.for_org(org).filter(pk=job.pk).update(attempt=job.attempt + 1)

    assert services._write(org, job, 0, b"late", 5) is False
    assert not ExportChunk.objects.for_org(org).filter(job=job).exists()


def test_stuck_exports_are_sent_again_then_given_up(org, finance):
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip
    assert export_jobs_stuck() == [], "a fresh request is not stuck"
    with time_machine.travel(NOW + datetime.timedelta(minutes=6), tick=False):
        assert export_jobs_stuck() == [(org.pk, job.pk)]
    ExportJob.objects.for_org(org).filter(pk=job.pk).update(
        status="running", attempt=3, heartbeat_at=NOW
    )
    with time_machine.travel(NOW + datetime.timedelta(minutes=30), tick=False):
        assert export_jobs_stuck() == []
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED


def test_files_expire_after_a_week(org, finance, login, year_of_calls):
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip
    export_run(org.pk, job.pk)

    with time_machine.travel(NOW + datetime.timedelta(days=6), tick=False):
        assert export_jobs_expire() == 0
    with time_machine.travel(NOW + datetime.timedelta(days=8), tick=False):
        assert export_jobs_expire() == 1

    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED
    assert not ExportChunk.objects.for_org(org).filter(job=job).exists()
    client = login(finance)
    assert client.get(url(org, "export-file", export_id=job.pk)).status_code == 404
    page = client.get(url(org, "export-detail", export_id=job.pk)).content.decode()
    assert "deleted after a week" in page


def _lines(org, actor, **filters) -> int:
    """How many records an export of 2026 with `filters` holds."""
    job = export_job_request(
        organization=org, actor=actor, period=YEAR_2026, filters=ReportFilters(**filters),
        email_when_ready=False,
    )  # fmt: skip
    export_run(org.pk, job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    return job.progress_total


def test_filters_narrow_the_records(org, employee, finance, year_of_calls):
    assert _lines(org, finance, category="sms") == 12
    assert _lines(org, finance, category="calls") == 12
    assert _lines(org, finance, category="call:FR") == 12
    assert _lines(org, finance, category="call:DE") == 0, "the call to Germany was 2025's"
    assert _lines(org, finance, member_id=employee.pk) == 12
    assert _lines(org, finance, category="voicemail") == 0


def test_filters_by_list_and_department(org, employee, finance, year_of_calls):
    sales = MemberListFactory(organization=org, name="Sales")
    ListMembership.objects.create(organization=org, member_list=sales, member=finance)
    type(employee).objects.for_org(org).filter(pk=employee.pk).update(department="Support")

    assert _lines(org, finance, member_list_id=sales.pk) == 12
    assert _lines(org, finance, department="Support") == 12
    assert _lines(org, finance, department="Sales") == 0


def test_a_month_with_nothing_gives_the_headers_alone(org, finance, login):
    job = export_job_request(
        organization=org, actor=finance, period=Period(MONTH, datetime.date(2026, 3, 1)),
        filters=ReportFilters(), email_when_ready=False,
    )  # fmt: skip
    export_run(org.pk, job.pk)
    job.refresh_from_db()
    assert (job.status, job.progress_total, job.chunks) == ("done", 0, 1)
    rows = _download(login(finance), org, job)
    assert len(rows) == 1
    assert job.file_name.endswith("-2026-03-calls-and-messages.csv")


def test_in_french_the_file_uses_semicolons(org, finance, year_of_calls, login):
    with translation.override("fr"):
        job = export_job_request(
            organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
            email_when_ready=False,
        )  # fmt: skip
    export_run(org.pk, job.pk)
    content = b"".join(
        login(finance).get(url(org, "export-file", export_id=job.pk)).streaming_content
    )
    rows = csv_rows(content, delimiter=";")
    assert len(rows) == 25
    assert rows[1][0] == "03/01/2026"
    assert "," in rows[1][11], "a decimal comma"


def test_a_member_named_like_a_formula_is_written_as_text(org, owner, login):
    evil = MemberFactory(organization=org, display_name='=HYPERLINK("http://x.example","y")')
    fund(org, 10)
    give(org, evil, 10)
    usage(org, evil, call(evil, started_at=NOW - datetime.timedelta(days=1)))
    job = export_job_request(
        organization=org, actor=owner, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip
    export_run(org.pk, job.pk)

    rows = _download(login(owner), org, job)

    assert rows[1][2] == "'" + '=HYPERLINK("http://x.example","y")'


# --- Who reads what --------------------------------------------------------------------------


@pytest.fixture
def masking(org, owner):
    usage_settings_update(
        organization=org, actor=owner, mask_destinations=True, unusual_spend_factor=5
    )


def test_destinations_are_written_as_the_requester_reads_them(
    org, owner, admin, finance, login, year_of_calls, masking
):
    def export(actor) -> ExportJob:
        job = export_job_request(
            organization=org, actor=actor, period=YEAR_2026, filters=ReportFilters(),
            email_when_ready=False,
        )  # fmt: skip
        export_run(org.pk, job.pk)
        job.refresh_from_db()
        return job

    admins, owners = export(admin), export(owner)

    assert admins.masked
    # With its last digits hidden, a number is no longer a number to a spreadsheet: it is
    # kept as text (or "+3312345••••" would be read as a formula).
    assert _download(login(admin), org, admins)[1][6] == "'+3312345••••"
    assert not owners.masked
    assert _download(login(owner), org, owners)[1][6] == "+33123456789"
    # Whole numbers never reach a reader who sees them hidden; hidden ones reach anyone.
    assert login(admin).get(url(org, "export-file", export_id=owners.pk)).status_code == 404
    assert login(admin).get(url(org, "export-detail", export_id=owners.pk)).status_code == 404
    assert _download(login(finance), org, owners)[1][6] == "+33123456789"
    assert _download(login(owner), org, admins)[1][6] == "'+3312345••••"


def test_employees_and_outsiders_cannot_reach_exports(org, finance, employee, outsider, login):
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip
    export_run(org.pk, job.pk)
    for name, kwargs in (
        ("export-list", {}),
        ("export-detail", {"export_id": job.pk}),
        ("export-file", {"export_id": job.pk}),
    ):
        assert login(employee).get(url(org, name, **kwargs)).status_code == 403
        assert login(outsider).get(url(org, name, **kwargs)).status_code == 404
    assert login(employee).post(url(org, "export-list"), {"report": "year"}).status_code == 403


def test_an_export_of_another_organization_is_not_found(org, other_org, outsider, finance, login):
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=False,
    )  # fmt: skip
    export_run(org.pk, job.pk)
    client = login(outsider)
    for name in ("export-detail", "export-file"):
        assert client.get(url(other_org, name, export_id=job.pk)).status_code == 404


def test_the_service_refuses_employees(org, employee):
    with pytest.raises(services.PermissionDeniedError):
        export_job_request(
            organization=org, actor=employee, period=YEAR_2026, filters=ReportFilters(),
            email_when_ready=False,
        )  # fmt: skip


# --- The pages -------------------------------------------------------------------------------


def test_three_exports_at_once_at_most(org, finance, login):
    client = login(finance)
    for _ in range(3):
        assert _request(client, org).status_code == 302

    response = _request(client, org)

    assert response.status_code == 200
    assert "You already have 3 exports in progress." in response.content.decode()
    assert ExportJob.objects.for_org(org).count() == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"report": "year", "year": "99999"}, "at most 4 characters"),
        ({"report": "year", "year": ""}, "Choose a year such as 2026."),
        ({"report": "month", "month": "2026-13"}, "Choose a month as YYYY-MM, such as 2026-11."),
        ({"report": "month", "month": ""}, "Choose a month as YYYY-MM, such as 2026-11."),
        ({"report": "decade"}, "Choose a month or a year."),
        ({"category": "voicemail"}, "Choose calls, messages or both."),
        ({"department": "a\x00b"}, "Select a valid choice."),
        ({"list": "🙂"}, "Select a valid choice."),
    ],
)
def test_a_request_that_does_not_fit_says_why(org, finance, login, data, message):
    response = _request(login(finance), org, **data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExportJob.objects.for_org(org).exists()


def test_the_progress_is_polled_while_the_export_runs(org, finance, login):
    job = export_job_request(
        organization=org, actor=finance, period=YEAR_2026, filters=ReportFilters(),
        email_when_ready=True,
    )  # fmt: skip
    ExportJob.objects.for_org(org).filter(pk=job.pk).update(
        status="running", progress_done=250, progress_total=1000
    )
    client = login(finance)

    page = client.get(url(org, "export-detail", export_id=job.pk)).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert 'aria-valuenow="25"' in page
    assert "250 of 1000 records written" in page
    assert '<meta http-equiv="refresh"' in page

    part = client.get(url(org, "export-detail", export_id=job.pk), HTTP_HX_REQUEST="true")
    assert part.content.decode().lstrip().startswith('<div id="export-status"')
    assert client.get(url(org, "export-file", export_id=job.pk)).status_code == 404


def test_the_list_shows_the_organizations_exports(
    org, finance, owner, login, django_assert_max_num_queries
):
    for actor in (finance, owner, finance):
        export_job_request(
            organization=org, actor=actor, period=YEAR_2026, filters=ReportFilters(),
            email_when_ready=False,
        )  # fmt: skip
    client = login(owner)
    with django_assert_max_num_queries(30):
        page = client.get(url(org, "export-list")).content.decode()
    assert page.count("Call and message records") >= 3
    assert "Download a report" in page
    assert str(finance) in page


def test_the_list_in_french(org, finance, login):
    client = login(finance)
    client.cookies["django_language"] = "fr"
    page = client.get(url(org, "export-list"))
    assert page.status_code == 200
    assert 'lang="fr"' in page.content.decode()


# --- A real worker ---------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_export_and_emails_it(
    celery_worker_thread,  # noqa: F811
    celery_tasks,  # noqa: F811
    org,
    finance,
    employee,
    login,
    monkeypatch,
):
    monkeypatch.setattr(services, "BATCH", 4)
    fund(org, 100)
    give(org, employee, 50)
    now = timezone.now()
    usage(
        org,
        employee,
        *[
            call(employee, seconds=30 + n, started_at=now - datetime.timedelta(seconds=n))
            for n in range(10)
        ],
    )
    this_year = Period.current(YEAR, org).param
    with transaction.atomic():
        response = _request(login(finance), org, year=this_year)
        assert "dashboard.export_run" not in celery_tasks.sent_names, "not before the commit"
    assert response.status_code == 302
    job = ExportJob.objects.for_org(org).get()

    assert wait_for(lambda: ExportJob.objects.for_org(org).get().status == "done")
    assert wait_for(lambda: len(mail.outbox) == 1)
    assert celery_tasks.wait_idle()
    job.refresh_from_db()
    assert job.progress_done == job.progress_total == 10
    assert job.chunks == 3
    assert "dashboard.export_run" in celery_tasks.sent_names
    assert mail.outbox[0].to == [finance.email]
    assert url(org, "export-detail", export_id=job.pk) in mail.outbox[0].body
    assert len(_download(login(finance), org, job)) == 11


def test_the_role_matrix_lets_finance_in(org, login):
    finance = MemberFactory(organization=org, role=Role.FINANCE)
    assert login(finance).get(url(org, "export-list")).status_code == 200
