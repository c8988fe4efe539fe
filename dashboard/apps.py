from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """Finance dashboards, reports and exports."""

    name = "dashboard"
    verbose_name = _("Reports")

    def ready(self):
        from dashboard.forms import PICKER_SCOPE
        from dashboard.selectors.filters import report_members
        from dashboard.services import schedules
        from members.extensions import register_member_picker_scope
        from outbox.attachments import attachment_register

        # The monthly report's email carries the report (PDF) and its summary (CSV).
        attachment_register(schedules.PDF_ATTACHMENT, schedules.report_pdf_attachment)
        attachment_register(schedules.CSV_ATTACHMENT, schedules.report_csv_attachment)
        # A report narrows to anyone who has joined, former members included.
        register_member_picker_scope(PICKER_SCOPE, report_members)
