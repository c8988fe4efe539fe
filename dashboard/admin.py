"""Platform staff's view of the reports' background work, across organizations
(organizations.middleware lifts the tenant scope in the admin): exports, with their progress
and errors, and who gets the monthly report. Read-only: exports are asked for, run and expired
by the services, and a member subscribes on the reports' page."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from dashboard.models import ExportJob, ReportSchedule, ReportScheduleSend
from organizations.admin import ReadOnly


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "created_at",
        "organization",
        "requested_by",
        "kind",
        "period_kind",
        "period_start",
        "status",
        "progress",
        "size",
        "finished_at",
    )
    list_filter = ("status", "kind", "period_kind")
    search_fields = ("organization__name", "organization__slug", "file_name")
    list_select_related = ("organization", "requested_by")
    date_hierarchy = "created_at"

    @admin.display(description=_("progress"))
    def progress(self, job: ExportJob) -> str:
        done, total = (
            number_format(count, force_grouping=True)
            for count in (job.progress_done, job.progress_total)
        )
        return f"{job.percent} % ({done} / {total})"

    @admin.display(description=_("size"), ordering="file_size")
    def size(self, job: ExportJob) -> str:
        return filesizeformat(job.file_size) if job.file_size else "—"


class ReportScheduleSendInline(ReadOnly, admin.TabularInline):
    model = ReportScheduleSend
    fields = ("month", "created_at")
    readonly_fields = fields
    ordering = ("-month",)
    extra = 0


@admin.register(ReportSchedule)
class ReportScheduleAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("organization", "member", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("organization__name", "organization__slug")
    list_select_related = ("organization", "member")
    inlines = (ReportScheduleSendInline,)
