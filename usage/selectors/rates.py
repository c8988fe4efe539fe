"""The rate table as organizations read it: the rate of a number (the longest prefix that
matches), and the rates of a currency, searched by country or number."""

import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length
from django.utils import translation
from django_countries import countries

from organizations.models import Organization
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


# What people call a few countries instead of their ISO code.
COUNTRY_ALIASES = {"UK": "GB", "USA": "US", "UAE": "AE"}


@dataclass(frozen=True)
class RateQuery:
    """What the rate page was asked for: every rate (nothing set); the rates of `countries`
    (ISO codes; "" for international networks) or whose description has `text`; the rate of
    the whole number `digits`; or the rates on the way to the typed digits `prefix`."""

    text: str = ""
    countries: tuple[str, ...] = ()
    digits: str = ""
    prefix: str = ""


@dataclass(frozen=True)
class RateResults:
    rates: QuerySet
    # The rate of the number searched for (its longest prefix), if one applies.
    applied: Rate | None
    # Whether the organization's currency has rates at all (the page's empty state).
    has_rates: bool


def _folded(text: str) -> str:
    """Lower case without accents, for matching names as people type them."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).replace(
        "\u2019", "'"
    )


def _starts_a_word(name: str, text: str) -> bool:
    start = name.find(text)
    while start != -1:
        if start == 0 or not name[start - 1].isalnum():
            return True
        start = name.find(text, start + 1)
    return False


def country_code_of(text: str) -> str | None:
    """The country `text` is the ISO code ("FR", "gb") or the common alias ("UK") of."""
    code = text.strip().upper()
    code = COUNTRY_ALIASES.get(code, code)
    if len(code) == 2 and code.isascii() and code.isalpha() and code in countries:
        return code
    return None


def country_codes_named(text: str) -> tuple[str, ...]:
    """The ISO codes of the countries with a word of their name, in the page's language or
    in English, starting with `text` ("allem" finds Germany in French, "united" three)."""
    wanted = _folded(text.strip())
    if not wanted:
        return ()
    found = {code for code, name in countries if _starts_a_word(_folded(name), wanted)}
    with translation.override("en"):
        found.update(code for code, name in countries if _starts_a_word(_folded(name), wanted))
    return tuple(sorted(found))


def _by_country_name(rates: QuerySet) -> QuerySet:
    """`rates` ordered by their country's name in the page's language, then by prefix;
    international networks (no country) last."""
    present = set(rates.order_by().values_list("country", flat=True).distinct())
    ranks = [code for code, _name in countries if code in present]
    if not ranks:
        return rates.order_by("country", "prefix")
    return rates.annotate(
        country_rank=Case(
            *(When(country=code, then=Value(rank)) for rank, code in enumerate(ranks)),
            default=Value(len(ranks)),
            output_field=IntegerField(),
        )
    ).order_by("country_rank", "prefix")


def rate_search(*, organization: Organization, query: RateQuery) -> RateResults:
    """The rates of the organization's currency that `query` asks for, ordered by country
    name then prefix (a queryset to paginate), with the rate of a searched number."""
    currency = organization.currency
    every = Rate.objects.filter(currency=currency)
    applied = None
    if query.digits:
        applied = rate_for(currency=currency, digits=query.digits)
        rates = every.filter(country=applied.country) if applied else every.none()
    elif query.prefix:
        on_the_way = [query.prefix[:length] for length in range(1, len(query.prefix) + 1)]
        rates = every.filter(Q(prefix__startswith=query.prefix) | Q(prefix__in=on_the_way))
    elif query.text or query.countries:
        rates = every.filter(
            Q(country__in=query.countries) | Q(description__icontains=query.text)
            if query.text
            else Q(country__in=query.countries)
        )
    else:
        rates = every
    has_rates = applied is not None or every.exists()
    return RateResults(rates=_by_country_name(rates), applied=applied, has_rates=has_rates)
