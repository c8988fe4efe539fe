"""The credit history: every transfer, newest first, narrowed by member (the member picker),
type and dates, a page at a time (newer, older, or from a chosen day: keyset pages, never a
count of the whole history); and the same transfers as a CSV or XLSX file, with the same
filters, columns and words as the page. Finance, admins and owners read both.
"""

import zoneinfo
from decimal import Decimal

from babel.numbers import get_currency_precision
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from credit.forms.history import HistoryExportForm, HistoryFilterForm
from credit.models import Account, Transfer
from credit.selectors.history import (
    transfer_history,
    transfer_history_batches,
    transfer_history_page,
)
from organizations.models import Organization
from organizations.scoping import tenant_scope
from skypemgr.exports import rows_download

HISTORY_PAGE_SIZE = 50
# Transfers read at a time by an export: what it holds in memory, whatever the history's size.
EXPORT_BATCH = 1000


def history(request):
    """A page of the history (50 transfers), with its filters and the links beside it."""
    form = HistoryFilterForm(request.GET, organization=request.org)
    form.is_valid()
    transfers = transfer_history(organization=request.org, **form.filters())
    page = transfer_history_page(transfers, size=HISTORY_PAGE_SIZE, **form.position())
    return render(
        request,
        "credit/history.html",
        {
            "form": form,
            "history": page,
            "is_filtered": form.is_filtered(),
            "filter_query": form.filter_query(),
            "filter_pairs": form.filter_pairs(),
        },
    )


def history_export(request):
    """The filtered history as a file (`format`: csv or xlsx), newest first."""
    form = HistoryExportForm(request.GET, organization=request.org)
    form.is_valid()
    file_format = form.cleaned_data.get("format")
    if not file_format:
        messages.error(request, form.errors["format"][0])
        url = reverse("credit:history", kwargs={"org_slug": request.org.slug})
        query = form.filter_query()
        return redirect(f"{url}?{query}" if query else url)
    transfers = transfer_history(organization=request.org, **form.filters())
    headers = [
        _("Date"),
        _("Time"),
        _("Type"),
        pgettext("account a transfer leaves", "From"),
        pgettext("account a transfer reaches", "To"),
        _("By"),
        _("Note"),
        _("Amount"),
        _("Currency"),
    ]
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(request.org.time_zone))
    return rows_download(
        headers,
        _rows(request.org, transfers, file_format),
        stem=f"credit-history-{request.org.slug}-{today.isoformat()}",
        file_format=file_format,
        title=_("Credit history"),
    )


def _rows(organization: Organization, transfers, file_format: str):
    """The export's rows, read in batches. A streamed response is read after the view has
    returned: each batch is read in the organization's scope and the request's language."""
    language = translation.get_language()
    batches = transfer_history_batches(transfers, size=EXPORT_BATCH)
    while True:
        with tenant_scope(organization), translation.override(language):
            batch = next(batches, None)
            if batch is None:
                return
            rows = [_row(organization, transfer, file_format) for transfer in batch]
        yield from rows


def _account(account: Account) -> str:
    # As the page names it (credit/_credit_account.html).
    return str(account.member) if account.member_id else str(account.get_kind_display())


def _row(organization: Organization, transfer: Transfer, file_format: str) -> list:
    when = timezone.localtime(transfer.created_at, zoneinfo.ZoneInfo(organization.time_zone))
    amount = _shown(transfer.amount.amount, get_currency_precision(organization.currency))
    # Signed from the company balance's side, as on the page.
    amount = -amount if transfer.direction == -1 else amount
    day, time, number = when.date(), when.time(), amount
    if file_format == "csv":
        day = formats.date_format(day, "SHORT_DATE_FORMAT")
        time = formats.time_format(time, "TIME_FORMAT")
        number = formats.number_format(amount)
    return [
        day,
        time,
        transfer.get_kind_display(),
        _account(transfer.source),
        _account(transfer.destination),
        str(transfer.actor) if transfer.actor_id else _("System"),
        transfer.memo,
        number,
        organization.currency,
    ]


def _shown(amount: Decimal, digits: int) -> Decimal:
    """The amount with the currency's decimals, or more where a rate needs them (0.0125)."""
    rounded = amount.quantize(Decimal(10) ** -digits)
    return rounded if rounded == amount else amount.normalize()
