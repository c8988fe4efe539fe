"""How the overview writes its ratios, in the page's language: a change on last year ("+12%",
or with a minus sign; "12 %" in French) and a share of a cap ("85%")."""

from decimal import Decimal

from babel.numbers import format_percent
from django import template

from skypemgr.amounts import page_locale

register = template.Library()

MINUS = "\N{MINUS SIGN}"


@register.filter
def signed_percent(ratio) -> str:
    """A ratio (0.125) as a signed whole percent ("+13%"); "" for None. A change that rounds
    to zero has no sign."""
    if ratio is None or ratio == "":
        return ""
    value = Decimal(ratio)
    text = format_percent(abs(value), locale=page_locale())
    if value.quantize(Decimal("0.01")) == 0 or text == format_percent(0, locale=page_locale()):
        return text
    return ("+" if value > 0 else MINUS) + text


@register.filter
def percent(ratio) -> str:
    """A ratio (0.85) as a whole percent ("85%"); "" for None."""
    if ratio is None or ratio == "":
        return ""
    return format_percent(Decimal(ratio), locale=page_locale())
