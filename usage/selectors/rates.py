"""The rate table as organizations read it: the rate of a number (the longest prefix that
matches), and the rates of a currency, searched by country or number."""

import phonenumbers
from django.db.models.functions import Length

from usage.models import Rate
from usage.pricing import Terms


def number_digits(text: str, *, region: str | None = None) -> str:
    """The E.164 digits of a number as people type it ("+33 1 23 45 67 89", "0033…", or a
    national number in `region`), or "" when it is not a number."""
    text = (text or "").strip()
    if not text or len(text) > 40:
        return ""
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else (region or None))
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]


def rate_for(*, currency: str, digits: str) -> Rate | None:
    """The rate of the number with these E.164 digits in `currency`: the longest matching
    prefix, in one indexed query; None when no prefix matches."""
    if not digits or not digits.isdigit():
        return None
    prefixes = [digits[:length] for length in range(1, min(len(digits), 15) + 1)]
    return (
        Rate.objects.filter(currency=currency, prefix__in=prefixes)
        .order_by(Length("prefix").desc())
        .first()
    )


def terms_of(rate: Rate) -> Terms:
    return Terms(
        currency=rate.currency,
        per_minute=rate.per_minute,
        per_sms=rate.per_sms,
        increment=rate.increment,
    )
