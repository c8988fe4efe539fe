"""The Reports overview: balances, spend against last year, the forecast, renewals, members
near their cap, recent activity and alerts, refreshed every 5 seconds (htmx) by its live part.
Owners, admins and finance read it."""

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from dashboard.selectors.overview import overview_build


def _report_links(organization) -> dict:
    """Where the spend figures lead: the monthly and annual reports once they exist, else the
    credit history (which lists every charge)."""
    history = reverse("credit:history", kwargs={"org_slug": organization.slug})
    links = {}
    for key, url_name in (("month", "dashboard:report-month"), ("year", "dashboard:report-year")):
        try:
            links[key] = reverse(url_name, kwargs={"org_slug": organization.slug})
        except NoReverseMatch:
            links[key] = history
    return links


def _context(request) -> dict:
    return {
        "overview": overview_build(organization=request.org),
        "report_links": _report_links(request.org),
    }


@require_GET
def overview(request):
    """The page: its header, the Reports tabs (templates/dashboard/_reports_nav.html), and
    the live part at load (the numbers are all there without JavaScript)."""
    return render(request, "dashboard/overview.html", _context(request))


@require_GET
def overview_live(request):
    """The live part alone, which the page polls."""
    return render(request, "dashboard/_overview_live.html", _context(request))
