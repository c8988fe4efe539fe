"""A phone number form field that yields E.164 strings, as allauth expects."""

from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField


class E164PhoneField(PhoneNumberField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault(
            "help_text", _("International format: + then the country code, e.g. +33 6 12 34 56 78.")
        )
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "autocomplete": "tel",
                    "inputmode": "tel",
                    "placeholder": "+33 6 12 34 56 78",
                }
            ),
        )
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": _(
                    "Enter a valid mobile number in international format, e.g. +33612345678."
                )
            },
        )
        super().__init__(**kwargs)

    def clean(self, value):
        number = super().clean(value)
        return number.as_e164 if number else ""
