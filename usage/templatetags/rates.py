"""How the rate page writes prices: with at least the currency's own digits and every
decimal a rate has beyond them (a rate has up to 4: "€0.0125", "0,10 €", "¥1.6")."""

from decimal import Decimal

from babel.numbers import format_currency
from django import template
from djmoney.money import Money

from skypemgr.amounts import page_locale

register = template.Library()


@register.filter
def rate_price(value, currency: str = "") -> str:
    """`value` (Money, or a number with `currency`) in the page's language, its decimals
    beyond the currency's own kept, trailing zeros dropped."""
    if isinstance(value, Money):
        currency, value = str(value.currency), value.amount
    if value is None or value == "" or not currency:
        return ""
    number = Decimal(value)
    # Trailing zeros go (0.0120 -> 0.012); the currency's own digits come back when formatted.
    number = number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()
    return format_currency(number, currency, locale=page_locale(), decimal_quantization=False)
