"""Amounts kept as text (an audit event's data) shown as Money, which writes itself in the
page's language ("€1,500.50", "1 500,50 €"): `{{ event.data.amount|money:org.currency }}`."""

from decimal import Decimal, InvalidOperation

from django import template
from djmoney.money import Money

register = template.Library()


@register.filter
def money(value, currency: str):
    """`value` (a number, or its text) as Money in `currency`; "" when it is not a number."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if not number.is_finite():
        return ""
    return Money(number, currency)
