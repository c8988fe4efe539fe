"""Reports as files: the monthly or annual report, as PDF, Excel (XLSX) or CSV (one table).
The report pages (dashboard.views.reports) link here with their own query string.

The query string is the report page's own (dashboard.forms.ReportDownloadForm); a value that
does not fit answers 400 with what to change, never a file of something else.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard.exports import report_csv, report_file_name, report_pdf, report_xlsx
from dashboard.forms import ReportDownloadForm
from dashboard.selectors.reports import report_build
from skypemgr.exports import download

DEFAULT_TABLE = "summary"


def _refused(request, form, errors: list[str]):
    return render(
        request,
        "dashboard/report_download_invalid.html",
        {"errors": errors, "form": form},
        status=400,
    )


@require_GET
def report_download(request):
    """The report asked for, every row of every table (no page), as an attachment named
    "skypemgr-<slug>-<period>[-<table>].<format>"."""
    form = ReportDownloadForm(request.GET, organization=request.org)
    if not form.is_valid():
        errors = [
            f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
            for name, messages in form.errors.items()
            for message in messages
        ]
        return _refused(request, form, errors)
    report = report_build(organization=request.org, period=form.period(), filters=form.filters())
    file_format = form.cleaned_data["format"]
    table = ""
    if file_format == "csv":
        table = form.cleaned_data["table"] or DEFAULT_TABLE
        if table not in report.tables:
            missing = _("This report has no table “%(key)s”.") % {"key": table}
            return _refused(request, form, [missing])
        content = report_csv(report, table)
    elif file_format == "xlsx":
        content = report_xlsx(report)
    else:
        content = report_pdf(report)
    return download(
        content,
        file_name=report_file_name(report, file_format=file_format, table_key=table),
        file_format=file_format,
    )
