from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """Finance dashboards, reports and exports."""

    name = "dashboard"
    verbose_name = _("Reports")
