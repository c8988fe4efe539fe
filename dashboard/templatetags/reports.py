"""How a report's values read on a page: by the column's kind (dashboard.reports).

A report page shows hundreds of figures, so a table is formatted in one pass (`shown`), and
amounts go through a small cache: a month's table repeats the same few values (zeros above
all), and each costs tens of microseconds to format in the page's language.
"""

import datetime
import functools
from decimal import Decimal

from django import template
from django.utils import formats, translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from djmoney.money import Money

from dashboard import reports
from usage.templatetags.usage_tags import duration

register = template.Library()
_NUMERIC = (reports.MONEY, reports.NUMBER, reports.DURATION)


@functools.lru_cache(maxsize=4096)
def _money_text(value: Decimal, currency: str, language: str) -> str:
    # The language is part of the key: the active one decides the format.
    return str(Money(value, currency))


def cell_text(value, kind: str, currency: str) -> str:
    """`value` as the page shows it in a column of `kind`."""
    if value is None or value == "":
        return "" if kind == reports.TEXT else "—"
    if kind == reports.MONEY:
        return _money_text(Decimal(value), currency, translation.get_language() or "")
    if kind == reports.DURATION:
        return duration(value)
    if kind == reports.MONTH and isinstance(value, datetime.date):
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    if kind == reports.DATE and isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if kind == reports.NUMBER:
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


@register.simple_tag
def cell(value, column, currency: str) -> str:
    return cell_text(value, column.kind, currency)


@register.filter
def numeric(column) -> bool:
    return column.kind in _NUMERIC


@register.filter
def at(row, index):
    return row[index]


@register.filter
def shown(table, currency: str) -> dict:
    """The table as the page shows it: each row as [(text, numeric), ...] with its link, and
    the totals line (its first cell is a label)."""
    kinds = [column.kind for column in table.columns]
    numeric_columns = [kind in _NUMERIC for kind in kinds]
    links = table.links or []
    rows = []
    for index, row in enumerate(table.rows):
        rows.append(
            {
                "cells": [
                    (cell_text(value, kind, currency), is_numeric)
                    for value, kind, is_numeric in zip(row, kinds, numeric_columns, strict=True)
                ],
                "link": links[index] if index < len(links) else None,
            }
        )
    totals = None
    if table.totals:
        totals = [(str(table.totals[0]), False)] + [
            (cell_text(value, kind, currency), is_numeric)
            for value, kind, is_numeric in zip(
                table.totals[1:], kinds[1:], numeric_columns[1:], strict=True
            )
        ]
    return {"rows": rows, "totals": totals}


@register.simple_tag
def table_rows(table, currency: str) -> str:
    """The table's body and totals as HTML, written here rather than by template loops: a
    report shows over a thousand cells, which the template engine takes tens of milliseconds
    to draw one by one. Every value is escaped."""
    data = shown(table, currency)
    parts = ["<tbody>"]
    for row in data["rows"]:
        parts.append("<tr>")
        for index, (text, is_numeric) in enumerate(row["cells"]):
            if index == 0:
                inner = (
                    format_html('<a href="{}">{}</a>', row["link"], text)
                    if row["link"]
                    else escape(text)
                )
                parts.append(
                    f'<th scope="row" class="fw-normal text-break report-first">{inner}</th>'
                )
            elif is_numeric:
                parts.append(f'<td class="text-end text-nowrap">{escape(text)}</td>')
            else:
                parts.append(f'<td class="text-break report-text">{escape(text)}</td>')
        parts.append("</tr>")
    parts.append("</tbody>")
    if data["totals"]:
        parts.append('<tfoot><tr class="fw-semibold">')
        for index, (text, is_numeric) in enumerate(data["totals"]):
            if index == 0:
                parts.append(f'<th scope="row" class="report-first">{escape(text)}</th>')
            else:
                css = ' class="text-end text-nowrap"' if is_numeric else ""
                parts.append(f"<td{css}>{escape(text)}</td>")
        parts.append("</tr></tfoot>")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)
