"""The usage settings form: hiding numbers, and what counts as unusual spend."""

from django import forms
from django.utils.translation import gettext_lazy as _

FACTOR_MESSAGE = _("Enter a whole number from 2 to 100.")


class UsageSettingsForm(forms.Form):
    mask_destinations = forms.BooleanField(
        label=_("Hide the last digits of numbers called"),
        help_text=_(
            "Admins and members see “+33 1 23 45 •• ••”; owners and finance staff still see "
            "whole numbers."
        ),
        required=False,
    )
    unusual_spend_factor = forms.IntegerField(
        label=_("Unusual spend"),
        help_text=_(
            "Admins are emailed, at most once a day for each member, when a member spends in a "
            "day more than this many times their average day of the last 30 days."
        ),
        min_value=2,
        max_value=100,
        error_messages={
            "required": FACTOR_MESSAGE,
            "invalid": FACTOR_MESSAGE,
            "min_value": FACTOR_MESSAGE,
            "max_value": FACTOR_MESSAGE,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
