"""How a report's values read on a page: by the column's kind (dashboard.reports)."""

import datetime
from decimal import Decimal

from django import template
from django.utils import formats
from djmoney.money import Money

from dashboard import reports
from usage.templatetags.usage_tags import duration

register = template.Library()


@register.simple_tag
def cell(value, column, currency: str) -> str:
    """`value` as the page shows it in a column of `column.kind`."""
    if value is None or value == "":
        return "" if column.kind == reports.TEXT else "—"
    if column.kind == reports.MONEY:
        return str(Money(Decimal(value), currency))
    if column.kind == reports.DURATION:
        return duration(value)
    if column.kind == reports.MONTH and isinstance(value, datetime.date):
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    if column.kind == reports.DATE and isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if column.kind == reports.NUMBER:
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


@register.filter
def numeric(column) -> bool:
    return column.kind in (reports.MONEY, reports.NUMBER, reports.DURATION)


@register.filter
def at(row, index):
    return row[index]
