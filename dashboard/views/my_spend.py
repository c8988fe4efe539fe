"""The employee's own spend, month by month: their balance at the start and the end of the
month and what moved it, what they spent per category and per day, with the same charts as the
finance reports. Only their own wallet and their own usage: never the company's."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from dashboard.forms import ReportQueryForm
from dashboard.periods import MONTH, Period
from dashboard.reports import ReportFilters
from dashboard.selectors.reports import report_build

MY_TABLES = ("summary", "by_category", "per_day")


def my_spend(request):
    organization, member = request.org, request.member
    form = ReportQueryForm(request.GET, organization=organization, kind=MONTH)
    form.is_valid()
    period = form.period()
    report = report_build(
        organization=organization,
        period=period,
        filters=ReportFilters(member_id=member.pk),
        only=MY_TABLES,
    )
    report.tables["summary"].note = _(
        "Your balance: what your company allocated to you, took back, and what you spent."
    )
    base = reverse("dashboard:my-spend", kwargs={"org_slug": organization.slug})
    current = Period.current(MONTH, organization)
    return render(
        request,
        "dashboard/my_spend.html",
        {
            "report": report,
            "tables": [report.tables[key] for key in MY_TABLES],
            "previous_url": f"{base}?month={period.previous.param}",
            "next_url": (
                f"{base}?month={period.next.param}" if period.next.start <= current.start else None
            ),
            "current_url": None if period == current else base,
            "month_error": form.errors.get("month"),
        },
    )
