"""The Phone page's number, as a member types it: read from the query string (the page, and the
price that follows the typing)."""

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from usage.selectors.rates import number_digits

# What a number typed with spaces, dots, dashes, brackets and a country code may take.
NUMBER_LENGTH = 40


class PhoneNumberForm(forms.Form):
    """`number`: a phone number as people type it ("+33 1 23 45 67 89", "0033…", or a national
    number of the organization's country); cleaned into its E.164 digits (no "+")."""

    number = forms.CharField(
        label=_("Number to call"),
        max_length=NUMBER_LENGTH,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "+33 1 23 45 67 89",
            }
        ),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_number(self) -> str:
        text = self.cleaned_data["number"]
        if not text:
            return ""
        # Control and formatting characters (NUL, right-to-left marks) are in no number.
        if any(unicodedata.category(character)[0] == "C" for character in text):
            raise forms.ValidationError(
                _("Type only digits, spaces and + for the country code."), code="characters"
            )
        digits = number_digits(text, region=self.organization.country.code or None)
        if not digits:
            raise forms.ValidationError(
                _("This is not a phone number. Type it with its country code: +44 20 7946 0000."),
                code="invalid",
            )
        return digits
