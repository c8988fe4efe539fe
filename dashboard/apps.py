from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """Finance dashboards, reports and exports."""

    name = "dashboard"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from dashboard.services import schedules
        from members.extensions import register_member_picker_scope
        from organizations.models import Member
        from outbox.attachments import attachment_register

        # The reports' member filter offers every member, those who left included (their
        # spending stays in the reports).
        register_member_picker_scope(
            "reports", lambda organization: Member.objects.for_org(organization)
        )
        # The monthly report's email carries the report (PDF) and its summary (CSV).
        attachment_register(schedules.PDF_ATTACHMENT, schedules.report_pdf_attachment)
        attachment_register(schedules.CSV_ATTACHMENT, schedules.report_csv_attachment)
