"""What the reports keep: exports made in the background and the monthly report by email.

- ExportJob: a file too long to make while a page waits (a year of call records), made by a
  worker; its progress, its outcome and, once done, its content.
- ExportChunk: the file itself, in the database, a piece per batch of rows: the worker writes
  it without holding the whole file in memory, the download streams it back the same way, and
  the web and worker containers need no shared disk (docker-compose gives them none).
- ReportSchedule: a member who gets last month's report by email on the 1st.
- ReportScheduleSend: one row per (schedule, month) sent: the unique constraint is what makes
  a second run of the sweep send nothing.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dashboard.periods import MONTH, YEAR
from organizations.models import Member, TenantModel


class ExportJob(TenantModel):
    class Kind(models.TextChoices):
        USAGE_RECORDS = "usage_records", _("Call and message records")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("In progress")
        DONE = "done", pgettext_lazy("an export", "Ready")
        FAILED = "failed", _("Failed")
        # Done, and its file deleted after a week.
        EXPIRED = "expired", pgettext_lazy("an export", "Expired")

    class PeriodKind(models.TextChoices):
        MONTH = MONTH, _("Month")
        YEAR = YEAR, _("Year")

    requested_by = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.USAGE_RECORDS)
    period_kind = models.CharField(max_length=5, choices=PeriodKind)
    # The first day of the month or year.
    period_start = models.DateField()
    # dashboard.reports.ReportFilters as a dict (see dashboard.services.exports).
    filters = models.JSONField(default=dict, blank=True)
    # The language the file is written in (headers, dates, the CSV's separator).
    language = models.CharField(max_length=8, blank=True)
    # Whether destinations are written with their last digits hidden: as the requester reads
    # them (usage.selectors.usage.destinations_masked).
    masked = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    email_when_ready = models.BooleanField(default=False)
    # Each run that takes the job counts one; a run that finds another number has lost it.
    attempt = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # Written with each batch: a running job whose heartbeat stopped lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="export_job_org_created"),
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["queued", "running"]),
                name="export_job_unfinished",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__day=1), name="export_job_period_first_day"
            ),
        ]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start:%Y-%m} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)


class ExportChunk(TenantModel):
    """A piece of an export's file, in order of `index` (from 0)."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="export_chunk_once"),
        ]


class ReportSchedule(TenantModel):
    """A member who receives last month's report by email on the 1st."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member"], name="report_schedule_one_per_member"
            ),
        ]
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")

    def __str__(self) -> str:
        return f"monthly report to member {self.member_id}"


class ReportScheduleSend(TenantModel):
    """The monthly report of `month` sent to a schedule's member: at most once."""

    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="+")
    # The first day of the month reported on.
    month = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["schedule", "month"], name="report_schedule_send_once"),
            models.CheckConstraint(
                condition=Q(month__day=1), name="report_schedule_send_first_day"
            ),
        ]
