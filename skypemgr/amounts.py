"""Amounts of money as people type and read them, in the language of the page.

Owns the one parser of typed amounts (`parse_amount`), the one form field built on it
(`AmountField`), and how an amount is written back into a form (`format_amount`). Amounts
shown as text are `Money` objects, which render themselves with babel in the active language
("€1,500.50", "1 500,50 €"), so templates, emails and messages need no formatting of their own.

Reading is strict, with babel's `parse_decimal(strict=True)` in the page's language: "1,500.50"
or "1500.50" in English; "1 500,50" (ordinary, no-break or narrow no-break spaces) or
"1500,50" in French, and "1500.50" where the dot cannot be a thousands separator ("1.500" can:
it is refused). A sign or code of the organization's currency may come with the number ("€12",
"12,50 €", "12.50 EUR"); another currency is refused. At most the currency's own decimals
(none for JPY) unless the field asks for more (rates). Every refusal shows an amount written
the page's way.
"""

import re
import unicodedata
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
    parse_decimal,
)
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from djmoney.money import Money

# The ledger's own ceiling (credit.services.ledger.MAX_AMOUNT): a larger amount is a typo.
LARGEST = Decimal("1000000000")
MAX_LENGTH = 40
EXAMPLE = Decimal("1500.50")

_SPACES = frozenset(" \u00a0\u202f")
# Signs that stand for several currencies; babel's symbols ("CA$", "£GB", "JPY"...) cover the
# rest of what people type.
_SHARED_SIGNS = {"$": {"USD", "CAD", "AUD"}, "¥": {"JPY"}, "£": {"GBP"}, "€": {"EUR"}}
# A currency mark before or after the number, a minus sign, and the number itself.
_PARTS = re.compile(
    r"(?P<minus>-?)\s*(?P<before>[^\d\s.,-]*)\s*(?P<minus_after>-?)\s*"
    r"(?P<number>[\d.,\s]*\d[\d.,\s]*?)\s*(?P<after>[^\d\s.,-]*)",
    re.ASCII,
)
# "1.500": in a language whose decimal sign is not a dot, the dot may group thousands.
_DOT_GROUPS = re.compile(r"\d{1,3}(?:\.\d{3})+", re.ASCII)


def page_locale() -> Locale:
    """The babel locale of the active language (English when there is none)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    try:
        return Locale.parse(translation.to_locale(language))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def currency_decimals(currency: str) -> int:
    """The currency's own decimals: 2 for EUR, 0 for JPY."""
    return get_currency_precision(currency)


def format_amount(value, *, currency: str, locale: Locale | None = None) -> str:
    """`value` (Money or a number) written as a person types it in the page's language:
    "50", "1,500.50", "1 500,50"; every non-zero decimal kept (a rate's fourth one too)."""
    if isinstance(value, Money):
        value = value.amount
    number = Decimal(value).normalize()
    digits = 0 if number == number.to_integral_value() else currency_decimals(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(
        number, format=pattern, locale=locale or page_locale(), decimal_quantization=False
    )


def example(*, currency: str, decimals: int | None = None, locale: Locale | None = None) -> str:
    """An amount written the page's way, for messages: "1,500.50", "1 500,50", "1,500" (JPY)."""
    digits = min(currency_decimals(currency) if decimals is None else decimals, 2)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(EXAMPLE, format=pattern, locale=locale or page_locale())


def _marks_of(currency: str, locale: Locale) -> set[str]:
    """What may stand for `currency` next to a number: its code and signs, upper-cased."""
    marks = {currency.upper()}
    for where in {str(locale), *(code for code, _name in settings.LANGUAGES)}:
        marks.add(get_currency_symbol(currency, locale=where).upper())
    marks.update(sign for sign, codes in _SHARED_SIGNS.items() if currency in codes)
    return marks


def _names_a_currency(mark: str) -> bool:
    return mark.upper() in list_currencies() or any(
        unicodedata.category(char) == "Sc" for char in mark
    )


def parse_amount(
    text: str, *, currency: str, decimals: int | None = None, locale: Locale | None = None
) -> Decimal:
    """The number a person typed, read in the page's language; ValidationError when it is
    malformed, ambiguous, in another currency, or has too many decimals. May be zero or
    negative: what a field accepts is the field's to say."""
    locale = locale or page_locale()
    decimals = currency_decimals(currency) if decimals is None else decimals
    shown = example(currency=currency, decimals=decimals, locale=locale)
    malformed = ValidationError(
        _("Write the amount like %(example)s.") % {"example": shown}, code="invalid"
    )
    if len(text) > MAX_LENGTH or any(unicodedata.category(char)[0] == "C" for char in text):
        raise malformed
    # NFKC turns full-width digits into ASCII ones and every kind of space into a plain one.
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()
    parts = _PARTS.fullmatch(text)
    if parts is None:
        raise malformed
    marks = [mark for mark in (parts["before"], parts["after"]) if mark]
    if marks and any(mark.upper() not in _marks_of(currency, locale) for mark in marks):
        if any(_names_a_currency(mark) for mark in marks):
            raise ValidationError(
                _("Amounts are in %(currency)s here: write the amount like %(example)s.")
                % {"currency": currency, "example": shown},
                code="currency",
            )
        raise malformed
    if len(marks) > 1 or (parts["minus"] and parts["minus_after"]):
        raise malformed
    number = re.sub(r"\s+", " ", parts["number"])
    group, point = get_group_symbol(locale), get_decimal_symbol(locale)
    if group in _SPACES:
        number = number.replace(" ", group)
    if point != "." and _DOT_GROUPS.fullmatch(number):
        raise ValidationError(
            _("This amount can be read two ways: write it like %(example)s.") % {"example": shown},
            code="ambiguous",
        )
    try:
        value = parse_decimal(number, locale=locale, strict=True)
    except NumberFormatError:
        raise malformed from None
    if not value.is_finite():
        raise malformed
    if -value.as_tuple().exponent > decimals:
        if decimals == 0:
            message = _("%(currency)s amounts have no decimals: write the amount like %(example)s.")
        else:
            message = ngettext(
                "Use at most %(digits)d decimal place, like %(example)s.",
                "Use at most %(digits)d decimal places, like %(example)s.",
                decimals,
            )
        raise ValidationError(
            message % {"currency": currency, "digits": decimals, "example": shown},
            code="decimals",
        )
    return -value if parts["minus"] or parts["minus_after"] else value


def amount_hint(currency: str) -> str:
    """A help text for an amount field: "In EUR, like 1,500.50"."""
    return _("In %(currency)s, like %(example)s.") % {
        "currency": currency,
        "example": example(currency=currency),
    }


class AmountField(forms.Field):
    """An amount of `currency` typed by a person, cleaned into Money (None when left empty).

    More than zero, unless `allow_zero` (for settings where 0 means "none"); at most the
    currency's decimals, or `decimals` (4 where a rate is typed). The form may set `currency`
    after building the field, before cleaning. Shown again, a form keeps what the person
    typed; an initial Money or number is written the page's way.
    """

    widget = forms.TextInput

    def __init__(
        self,
        *,
        currency: str = "",
        decimals: int | None = None,
        allow_zero: bool = False,
        **kwargs,
    ):
        self.currency = currency
        self.decimals = decimals
        self.allow_zero = allow_zero
        self.custom_required = "required" in (kwargs.get("error_messages") or {})
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(
            inputmode="decimal", autocomplete="off", spellcheck="false", maxlength=MAX_LENGTH
        )
        return attrs

    def to_python(self, value) -> Decimal | None:
        if isinstance(value, Money):
            if str(value.currency) != self.currency:
                raise ValidationError(
                    _("Amounts are in %(currency)s here.") % {"currency": self.currency},
                    code="currency",
                )
            return value.amount
        if isinstance(value, Decimal | int):
            return Decimal(value)
        text = "" if value is None else str(value)
        if not text.strip():
            return None
        return parse_amount(text, currency=self.currency, decimals=self.decimals)

    def validate(self, value) -> None:
        if value is None:
            if self.required:
                raise ValidationError(self.required_message(), code="required")
            return
        if value < 0 or (value == 0 and not self.allow_zero):
            if self.allow_zero:
                raise ValidationError(_("Enter 0 or more."), code="min_value")
            raise ValidationError(_("Enter an amount greater than zero."), code="min_value")
        if value > LARGEST:
            raise ValidationError(_("This amount is too large."), code="max_value")

    def required_message(self) -> str:
        """What to say when the amount is missing: the form's own words, or an example."""
        if self.custom_required:
            return self.error_messages["required"]
        return _("Enter an amount, such as %(example)s.") % {
            "example": example(currency=self.currency, decimals=self.decimals)
        }

    def clean(self, value) -> Money | None:
        number = super().clean(value)
        return None if number is None else Money(number, self.currency)

    def prepare_value(self, value):
        if isinstance(value, Money | Decimal | int) and self.currency:
            return format_amount(value, currency=self.currency)
        return value
