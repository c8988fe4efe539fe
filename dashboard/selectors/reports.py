"""The monthly and annual reports, built from the rollups and the ledger's monthly rollups.

(Being written: for now a placeholder with the final signature, so that exports and scheduled
reports can be built against it.)
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.periods import YEAR, Period
from dashboard.reports import MONEY, TEXT, Column, Report, ReportFilters, ReportTable


def report_build(
    *,
    organization,
    period: Period,
    filters: ReportFilters | None = None,
    sort: str = "",
    page: int | None = None,
) -> Report:
    """The report of `period` (a month or a year) narrowed by `filters`. `sort` and `page`
    apply to the paged tables on screen; exports pass neither and get every row."""
    report = Report(
        organization=organization,
        period=period,
        filters=filters or ReportFilters(),
        title=_("Annual report") if period.kind == YEAR else _("Monthly report"),
        generated_at=timezone.now(),
        currency=organization.currency,
    )
    report.add(
        ReportTable(
            key="summary",
            title=_("Summary"),
            columns=[Column("line", _("Line"), TEXT), Column("total", _("Total"), MONEY)],
            rows=[],
        )
    )
    return report
