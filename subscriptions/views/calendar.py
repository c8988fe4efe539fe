"""The renewal calendar: the renewals due in the next 30, 60 or 90 days, week by week (Monday
to Sunday in the organization's time zone) with their totals and the company balance projected
after each week; one week's renewals listed a page at a time; and the whole window as a CSV or
XLSX file. Owners, admins and finance read them.
"""

import datetime
import zoneinfo
from decimal import Decimal

from babel.numbers import get_currency_precision
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from organizations.models import Organization
from organizations.scoping import tenant_scope
from skypemgr.exports import rows_download
from subscriptions.forms.calendar import CalendarExportForm, CalendarForm
from subscriptions.selectors.calendar import (
    DueRow,
    calendar_rows,
    due_rows,
    renewal_calendar,
    week_rows,
)

ROWS_PER_PAGE = 100
EXPORT_BATCH = 1000


@require_GET
def calendar(request):
    """The weeks of the chosen window and the rows of one of them (the first week with
    renewals unless the query string names another), 100 at a time."""
    form = CalendarForm(request.GET)
    form.is_valid()
    organization = request.org
    plan = renewal_calendar(organization=organization, days=form.window)
    week = plan.week_of(form.value("week")) or next(
        (week for week in plan.weeks if week.count), plan.weeks[0]
    )
    page = None
    if week.count:
        paginator = Paginator(
            week_rows(organization=organization, week=week, until=plan.until), ROWS_PER_PAGE
        )
        page = paginator.get_page(form.value("page", 1))
        page.rows = due_rows(organization=organization, subscriptions=page.object_list)
    return render(
        request,
        "subscriptions/calendar.html",
        {
            "form": form,
            "calendar": plan,
            "week": week,
            "page": page,
            "export_query": urlencode({"days": plan.days}),
        },
    )


@require_GET
def calendar_export(request):
    """Every renewal of the chosen window, in due order, as a file (`format`: csv or xlsx)."""
    form = CalendarExportForm(request.GET)
    form.is_valid()
    file_format = form.cleaned_data.get("format")
    url = reverse("subscriptions:calendar", kwargs={"org_slug": request.org.slug})
    if not file_format:
        messages.error(request, form.errors["format"][0])
        return redirect(f"{url}?{urlencode({'days': form.window})}")
    headers = [
        _("Week of"),
        _("Due on"),
        _("Member"),
        _("Feature"),
        _("Period (months)"),
        _("Amount"),
        _("Currency"),
        _("Renews automatically"),
        _("Outcome"),
    ]
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(request.org.time_zone))
    return rows_download(
        headers,
        _rows(request.org, form.window, file_format),
        stem=f"renewals-{request.org.slug}-{today.isoformat()}-{form.window}d",
        file_format=file_format,
        title=_("Renewal calendar"),
    )


def _rows(organization: Organization, days: int, file_format: str):
    """The export's rows, read in batches. A streamed response is read after the view has
    returned: each batch is read in the organization's scope and the request's language."""
    language = translation.get_language()
    # Dates as text, once each: thousands of rows share a few dozen days.
    shown: dict = {}
    batches = calendar_rows(organization=organization, days=days, batch=EXPORT_BATCH)
    while True:
        with tenant_scope(organization), translation.override(language):
            batch = next(batches, None)
            if batch is None:
                return
            rows = [_row(organization, row, file_format, shown) for row in batch]
        yield from rows


def outcome(row: DueRow) -> str:
    if row.ending:
        return _("Ends")
    if row.price is None:
        return _("No price in the catalog")
    return _("Renews")


def _row(organization: Organization, row: DueRow, file_format: str, shown: dict) -> list:
    week = row.due_on - datetime.timedelta(days=row.due_on.weekday())
    due_on = row.due_on
    amount = None
    if row.price is not None:
        digits = get_currency_precision(organization.currency)
        amount = row.price.amount.quantize(Decimal(10) ** -digits)
    auto_renew = _("Yes") if row.auto_renew else _("No")
    if file_format == "csv":
        for day in (week, due_on):
            if day not in shown:
                shown[day] = formats.date_format(day, "SHORT_DATE_FORMAT")
        week, due_on = shown[week], shown[due_on]
        amount = "" if amount is None else formats.number_format(amount)
    return [
        week,
        due_on,
        row.member,
        row.plan,
        row.months,
        amount,
        organization.currency,
        auto_renew,
        outcome(row),
    ]
