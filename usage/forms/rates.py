"""The rate page's search, read from the query string: a country (its name in the page's
language or in English, or its ISO code) or a phone number (international, or national in the
organization's country), and the page of results.

A search that cannot be read (a control character, a number that is not whole) is the field's
error and the page lists every rate; a search that reads but finds nothing is not an error.
"""

import re
import unicodedata

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from usage.selectors.rates import (
    RateQuery,
    country_code_of,
    country_codes_named,
    number_digits,
)

SEARCH_LENGTH = 100
# What a typed phone number is made of: digits, and the signs people group them with.
_NUMBER = re.compile(r"\+?[\s(]*[0-9][0-9\s().\-/]*", re.ASCII)
_SPACES = re.compile(r"\s+")


class RateSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Country or number"),
        required=False,
        max_length=SEARCH_LENGTH,
        help_text=_("A country (France, FR) or a phone number (+33 6 12 34 56 78)."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        error_messages={
            "max_length": _("Type at most %(limit_value)d characters: a country or a number.")
        },
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_q(self) -> str:
        text = self.cleaned_data["q"]
        if any(unicodedata.category(char)[0] == "C" for char in text):
            raise ValidationError(
                _("Type a country or a phone number, without invisible characters."),
                code="invalid",
            )
        # Full-width digits and every kind of space become plain ones.
        return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()

    def clean(self):
        data = super().clean()
        text = data.get("q") or ""
        self.query = RateQuery()
        if text and _NUMBER.fullmatch(text):
            self.query = self._number_query(text)
        elif text:
            code = country_code_of(text)
            if code:
                self.query = RateQuery(countries=(code,))
            else:
                self.query = RateQuery(text=text, countries=country_codes_named(text))
        return data

    def _number_query(self, text: str) -> RateQuery:
        """A whole number (its E.164 digits), or the digits of an international number begun
        ("+44 7": the rates on the way to it); an error for anything else."""
        typed = "".join(char for char in text if char.isdigit())
        international = text.startswith("+") or typed.startswith("00")
        digits = number_digits(text, region=str(self.organization.country))
        if not digits and not international:
            # International digits typed without their "+" ("33612345678").
            digits = number_digits("+" + typed)
        if digits:
            return RateQuery(digits=digits)
        if international:
            prefix = typed[2:] if typed.startswith("00") and not text.startswith("+") else typed
            if 1 <= len(prefix) <= 15 and not prefix.startswith("0"):
                return RateQuery(prefix=prefix)
        example = phonenumbers.example_number(str(self.organization.country))
        shown = (
            phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            if example
            else "020 7946 0958"
        )
        self.add_error(
            "q",
            ValidationError(
                _(
                    "This is not a whole phone number. Type it with its country code, like "
                    "+44 20 7946 0958, or as a number of your country, like %(example)s."
                ),
                params={"example": shown},
                code="number",
            ),
        )
        return RateQuery()

    def value(self, name: str, default=None):
        """The cleaned value, or `default` when it was missing or did not fit."""
        value = getattr(self, "cleaned_data", {}).get(name)
        return default if value in (None, "") else value

    @property
    def rate_query(self) -> RateQuery:
        """What to search for (after is_valid()): everything when the search did not read."""
        return getattr(self, "query", RateQuery()) if "q" not in self.errors else RateQuery()
