from django.urls import path

from dashboard.views import downloads, exports, my_account, my_spend, overview, reports, schedules

app_name = "dashboard"

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("me/", my_account.my_account, name="my-account"),
    path("me/leave/", my_account.leave, name="leave"),
    path("me/spend/", my_spend.my_spend, name="my-spend"),
    path("reports/month/", reports.report_month, name="report-month"),
    path("reports/year/", reports.report_year, name="report-year"),
    path("reports/", overview.overview, name="overview"),
    path("reports/live/", overview.overview_live, name="overview-live"),
    path("reports/download/", downloads.report_download, name="report-download"),
    path("reports/exports/", exports.export_list, name="export-list"),
    path("reports/exports/<int:export_id>/", exports.export_detail, name="export-detail"),
    path("reports/exports/<int:export_id>/download/", exports.export_file, name="export-file"),
    path("reports/scheduled/", schedules.schedule, name="schedule"),
]
