"""Exports made in the background: a month or a year of call and message records as CSV.

Owns ExportJob and ExportChunk.

- `export_job_request` records the request and sends `dashboard.export_run` after commit.
- `export_job_run` (the task's service) takes the job, then writes the file a batch at a time:
  each batch of records (read by keyset, never all at once) becomes one ExportChunk, written
  with the job's progress in one short transaction. Done, it marks the job ready and, when
  asked, queues the email saying so (in the same transaction, through the outbox).
- `export_jobs_stuck` (beat) sends again the jobs whose task was lost (the broker was down at
  commit, or the worker died); `export_jobs_expire` (beat) deletes files past their week.

A job is run by one worker at a time: taking it locks its row, counts one more `attempt`, and
every later write checks that the attempt is still the job's. A run that finds a job finished,
or running with a recent heartbeat, does nothing; a run that lost its job (another took it
after its heartbeat stopped) stops at its next batch.
"""

import datetime
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credit.services.notifications import recipients, site_url
from dashboard.exports import clock
from dashboard.models import ExportChunk, ExportJob
from dashboard.periods import Period
from dashboard.reports import ReportFilters
from dashboard.selectors.exports import usage_record_batches, usage_records_export
from dashboard.selectors.filters import report_filters_text
from organizations.models import Member, Organization
from organizations.roles import STAFF_ROLES, Role
from organizations.scoping import all_tenants
from outbox.services import message_queue_email
from skypemgr.after_commit import task_after_commit
from skypemgr.amounts import currency_decimals
from skypemgr.errors import ApplicationError, PermissionDeniedError
from skypemgr.exports import csv_chunk
from usage.models import UsageRecord
from usage.selectors.usage import destination_shown, destinations_masked

logger = logging.getLogger(__name__)

# Records per batch: one query, one piece of the file, one progress update (about 200 KB).
BATCH = 2000
# Exports one member may have waiting or in progress at once.
MAX_UNFINISHED = 3
# A running job whose heartbeat is older lost its worker; a queued one older lost its task.
STALE_AFTER = datetime.timedelta(minutes=10)
QUEUED_STUCK_AFTER = datetime.timedelta(minutes=5)
# Runs a job may take before it is given up.
MAX_ATTEMPTS = 3
# How long a file is kept once made.
KEEP_FOR = datetime.timedelta(days=7)

USAGE_HEADERS = [
    gettext_lazy("Date"),
    gettext_lazy("Time"),
    gettext_lazy("Member"),
    gettext_lazy("Department"),
    gettext_lazy("Kind"),
    gettext_lazy("Direction"),
    gettext_lazy("Destination"),
    gettext_lazy("Country"),
    gettext_lazy("Duration"),
    gettext_lazy("Messages"),
    gettext_lazy("From a subscription"),
    gettext_lazy("Cost"),
    gettext_lazy("Currency"),
]


# --- Filters as the job keeps them -----------------------------------------------------------


def filters_to_json(filters: ReportFilters) -> dict:
    return {
        "member_list_id": filters.member_list_id,
        "department": filters.department,
        "member_id": filters.member_id,
        "category": filters.category,
    }


def filters_from_json(data: dict) -> ReportFilters:
    data = data or {}
    return ReportFilters(
        member_list_id=data.get("member_list_id") or None,
        department=data.get("department") or "",
        member_id=data.get("member_id") or None,
        category=data.get("category") or "",
    )


def export_job_period(job: ExportJob) -> Period:
    return Period(job.period_kind, job.period_start)


def export_job_filters(job: ExportJob) -> ReportFilters:
    return filters_from_json(job.filters)


# --- Request ---------------------------------------------------------------------------------


def export_job_request(
    *,
    organization: Organization,
    actor: Member,
    period: Period,
    filters: ReportFilters,
    email_when_ready: bool,
    language: str = "",
) -> ExportJob:
    """Ask for the call and message records of `period` narrowed by `filters` as a CSV file,
    made in the background (`dashboard.export_run`, sent after commit). Finance members,
    admins and owners; at most MAX_UNFINISHED waiting or in progress per member (their row is
    locked while counting, so two requests at once cannot pass it together). Destinations
    are written as `actor` reads them (masked or not)."""
    if not Role(actor.role).at_least(Role.FINANCE):
        raise PermissionDeniedError(_("Only finance members, admins and owners export reports."))
    if not period.within_reach():
        raise ApplicationError(_("Choose a period between 2000 and next year."), field="month")
    from dashboard.tasks.exports import export_run

    with transaction.atomic():
        Member.objects.for_org(organization).select_for_update().filter(pk=actor.pk).first()
        unfinished = (
            ExportJob.objects.for_org(organization)
            .filter(
                requested_by=actor, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
            )
            .count()
        )
        if unfinished >= MAX_UNFINISHED:
            raise ApplicationError(
                _(
                    "You already have %(count)d exports in progress. Wait for one to finish, "
                    "then ask again."
                )
                % {"count": unfinished},
                code="too_many",
            )
        job = ExportJob.objects.create(
            organization=organization,
            requested_by=actor,
            kind=ExportJob.Kind.USAGE_RECORDS,
            period_kind=period.kind,
            period_start=period.start,
            filters=filters_to_json(filters),
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
            masked=destinations_masked(organization=organization, viewer=actor),
            email_when_ready=email_when_ready,
        )
        # If the broker is down now, export_jobs_stuck (beat, every 5 minutes) sends it.
        task_after_commit(export_run, organization.pk, job.pk)
    return job


# --- Run -------------------------------------------------------------------------------------


def _take(organization: Organization, job_id: int) -> tuple[ExportJob, int] | None:
    """Lock the job and make it this run's: (the job, the highest record id it covers), or
    None when it is finished or another run holds it. Forgets what an earlier run wrote."""
    now = timezone.now()
    with transaction.atomic():
        job = ExportJob.objects.for_org(organization).select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING):
            return None
        if (
            job.status == ExportJob.Status.RUNNING
            and job.heartbeat_at is not None
            and job.heartbeat_at > now - STALE_AFTER
        ):
            return None
        records = usage_records_export(
            organization=organization,
            period=export_job_period(job),
            filters=export_job_filters(job),
        )
        # The file holds the records there are now: later ones (a late call record) wait for
        # the next export, so that the progress ends exactly at its total.
        last_id = records.aggregate(last=Max("id"))["last"] or 0
        ExportChunk.objects.for_org(organization).filter(job=job).delete()
        job.attempt += 1
        job.status = ExportJob.Status.RUNNING
        job.progress_done = 0
        job.progress_total = records.filter(id__lte=last_id).count()
        job.chunks = 0
        job.file_size = 0
        job.error = ""
        job.heartbeat_at = now
        job.save()
    return job, last_id


def export_job_run(*, organization: Organization, job_id: int) -> ExportJob | None:
    """Write the export's file (see the module docstring). Returns the job as it ends, or
    None when there was nothing for this run to do."""
    taken = _take(organization, job_id)
    if taken is None:
        return None
    job, last_id = taken
    with translation.override(job.language or settings.LANGUAGE_CODE):
        records = usage_records_export(
            organization=organization,
            period=export_job_period(job),
            filters=export_job_filters(job),
        ).filter(id__lte=last_id)
        rows = _UsageRows(organization, masked=job.masked)
        index = 0
        for batch in usage_record_batches(records, size=BATCH):
            text = csv_chunk(rows.of(batch), headers=USAGE_HEADERS if index == 0 else None)
            if not _write(organization, job, index, text.encode("utf-8"), len(batch)):
                return None
            index += 1
        # No record: the file still has its headers.
        empty = csv_chunk([], headers=USAGE_HEADERS).encode("utf-8")
        if index == 0 and not _write(organization, job, 0, empty, 0):
            return None
    return _finish(organization, job)


def _write(organization: Organization, job: ExportJob, index: int, data: bytes, count: int):
    """Store a piece of the file and the progress; False when the job is no longer this
    run's."""
    with transaction.atomic():
        kept = (
            ExportJob.objects.for_org(organization)
            .filter(pk=job.pk, attempt=job.attempt, status=ExportJob.Status.RUNNING)
            .update(
                progress_done=F("progress_done") + count,
                chunks=index + 1,
                file_size=F("file_size") + len(data),
                heartbeat_at=timezone.now(),
            )
        )
        if not kept:
            logger.info("Export %s was taken over; this run stops.", job.pk)
            return False
        ExportChunk.objects.create(organization=organization, job=job, index=index, data=data)
    return True


def _finish(organization: Organization, job: ExportJob) -> ExportJob | None:
    with transaction.atomic():
        job = (
            ExportJob.objects.for_org(organization)
            .select_for_update()
            .filter(pk=job.pk, attempt=job.attempt, status=ExportJob.Status.RUNNING)
            .first()
        )
        if job is None:
            return None
        period = export_job_period(job)
        job.status = ExportJob.Status.DONE
        job.finished_at = timezone.now()
        job.file_name = f"skypemgr-{organization.slug}-{period.param}-calls-and-messages.csv"
        job.save(update_fields=["status", "finished_at", "file_name"])
        if job.email_when_ready:
            export_ready_email(organization=organization, job=job)
    return job


class _UsageRows:
    """Records as the file's rows, in the active language: dates in the organization's time
    zone, destinations as the requester reads them, costs with the currency's decimals (more
    where a record needs them: 0.0125)."""

    def __init__(self, organization: Organization, *, masked: bool):
        self.zone = ZoneInfo(organization.time_zone)
        self.masked = masked
        self.digits = currency_decimals(organization.currency)

    def _cost(self, amount: Decimal) -> str:
        rounded = amount.quantize(Decimal(10) ** -self.digits)
        shown = rounded if rounded == amount else amount.normalize()
        return formats.number_format(shown, use_l10n=True)

    def of(self, records: list[UsageRecord]) -> list[list]:
        rows = []
        for record in records:
            when = record.started_at.astimezone(self.zone)
            is_call = record.kind == UsageRecord.Kind.CALL
            rows.append(
                [
                    formats.date_format(when.date(), "SHORT_DATE_FORMAT"),
                    when.strftime("%H:%M:%S"),
                    str(record.member),
                    record.member.department,
                    record.get_kind_display(),
                    record.get_direction_display(),
                    destination_shown(record.destination, masked=self.masked),
                    record.country,
                    clock(record.seconds) if is_call else "",
                    record.units if not is_call else "",
                    clock(record.included_seconds) if record.included_seconds else "",
                    self._cost(record.cost),
                    record.currency,
                ]
            )
        return rows


def export_job_fail(*, organization: Organization, job_id: int, reason: str) -> None:
    """Give up on an export (its task failed for good). A finished one stays as it is."""
    ExportJob.objects.for_org(organization).filter(
        pk=job_id, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
    ).update(status=ExportJob.Status.FAILED, error=reason[:2000], finished_at=timezone.now())


# --- Email -----------------------------------------------------------------------------------


def export_ready_email(*, organization: Organization, job: ExportJob) -> int:
    """Tell the member who asked that the file is ready, with its link, in their language;
    once per export (its outbox key). Nothing when they are no longer a finance member, an
    admin or an owner, or have no address. Returns how many were addressed."""
    people = recipients(organization, list(STAFF_ROLES), member_ids=[job.requested_by_id])
    for person in people:
        with translation.override(person.language):
            context = {
                "organization": organization,
                "recipient": person.member,
                "job": job,
                "period": export_job_period(job).label,
                "filters": report_filters_text(
                    organization=organization, filters=export_job_filters(job)
                ),
                "link": site_url(
                    "dashboard:export-detail", org_slug=organization.slug, export_id=job.pk
                ),
                "days": KEEP_FOR.days,
            }
            subject = render_to_string("dashboard/email/export_ready_subject.txt", context)
            message_queue_email(
                to=person.email,
                subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                body=render_to_string("dashboard/email/export_ready_message.txt", context).strip(),
                html=render_to_string("dashboard/email/export_ready_message.html", context),
                language=person.language,
                key=f"dashboard:export:{job.pk}:to:{person.member.pk}",
            )
    return len(people)


# --- Sweeps ----------------------------------------------------------------------------------


def export_jobs_stuck(*, now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """(organization id, job id) of each export whose task was lost: waiting for over five
    minutes, or running with no heartbeat for ten. Those run MAX_ATTEMPTS times already are
    given up. Reads every organization: the beat sweep's query."""
    now = now or timezone.now()
    with all_tenants("the export sweep looks for every organization's stuck exports"):
        stuck = list(
            ExportJob.objects.filter(
                status=ExportJob.Status.QUEUED, created_at__lt=now - QUEUED_STUCK_AFTER
            ).values_list("organization_id", "pk", "attempt")
        ) + list(
            ExportJob.objects.filter(
                status=ExportJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
            ).values_list("organization_id", "pk", "attempt")
        )
        given_up = [pk for _org, pk, attempt in stuck if attempt >= MAX_ATTEMPTS]
        ExportJob.objects.filter(
            pk__in=given_up, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
        ).update(
            status=ExportJob.Status.FAILED,
            error="The export stopped several times before its end.",
            finished_at=now,
        )
    return [(org, pk) for org, pk, attempt in stuck if attempt < MAX_ATTEMPTS]


def export_jobs_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of exports finished over KEEP_FOR ago; their rows stay, "expired".
    Returns how many expired."""
    now = now or timezone.now()
    with all_tenants("the export sweep clears every organization's old files"):
        ids = list(
            ExportJob.objects.filter(
                status=ExportJob.Status.DONE, finished_at__lt=now - KEEP_FOR
            ).values_list("pk", flat=True)[:1000]
        )
        with transaction.atomic():
            ExportChunk.objects.filter(job_id__in=ids).delete()
            ExportJob.objects.filter(pk__in=ids).update(
                status=ExportJob.Status.EXPIRED, chunks=0, file_size=0
            )
    return len(ids)
