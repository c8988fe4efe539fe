"""The monthly and annual reports (finance, admins and owners): a summary of the wallets, the
purchases, the credit and features allocated, and spending by member, list, department and
category, with charts. The period and the filters live in the address, so a report is shared by
its link; the members' table sorts and pages there too."""

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from dashboard.forms import ReportQueryForm
from dashboard.periods import MONTH, YEAR, Period
from dashboard.selectors.reports import report_build

# The tables a report shows, in page order (the charts come first).
MONTH_TABLES = (
    "summary",
    "purchases",
    "allocations",
    "features",
    "by_category",
    "by_member",
    "by_list",
    "by_department",
    "per_day",
)
YEAR_TABLES = (
    "summary",
    "by_month",
    "by_category",
    "by_member",
    "by_list",
    "by_department",
    "purchases",
    "allocations",
    "features",
)


def report_month(request):
    return _report(request, MONTH)


def report_year(request):
    return _report(request, YEAR)


def _report(request, kind: str):
    organization = request.org
    form = ReportQueryForm(request.GET, organization=organization, kind=kind)
    form.is_valid()
    period = form.period()
    report = report_build(
        organization=organization,
        period=period,
        filters=form.filters(),
        sort=form.sort_key(),
        page=form.page_number(),
    )
    url_name = "dashboard:report-year" if kind == YEAR else "dashboard:report-month"
    base = reverse(url_name, kwargs={"org_slug": organization.slug})
    categories = report.tables.get("by_category")
    if categories is not None and not report.filters.category:
        # Each category narrows the report to itself.
        categories.links = [
            f"{base}?{form.query(category=key, page=None)}" for key in categories.keys or []
        ]
    current = Period.current(kind, organization)
    order = YEAR_TABLES if kind == YEAR else MONTH_TABLES
    return render(
        request,
        "dashboard/report.html",
        {
            "form": form,
            "report": report,
            "tables": [report.tables[key] for key in order if key in report.tables],
            "kind": kind,
            "base": base,
            "previous_url": f"{base}?{form.query(**{kind: period.previous.param, 'page': None})}",
            "next_url": (
                f"{base}?{form.query(**{kind: period.next.param, 'page': None})}"
                if period.next.start <= current.start
                else None
            ),
            "current_url": f"{base}?{form.query(**{kind: current.param, 'page': None})}",
            "is_current": period == current,
            "query": form.query(page=None),
            "active_tab": "year" if kind == YEAR else "month",
            "download_url": _download_url(organization, kind, form),
        },
    )


def _download_url(organization, kind: str, form: ReportQueryForm) -> str | None:
    """The report's downloads, with its period and filters; a format (and a table) follow."""
    try:
        url = reverse("dashboard:report-download", kwargs={"org_slug": organization.slug})
    except NoReverseMatch:
        return None
    return f"{url}?report={kind}&{form.query(page=None, sort=None)}"
