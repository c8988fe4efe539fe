"""Forms for creating an organization and changing its settings."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from organizations.models import TIME_ZONE_CHOICES
from organizations.services import CURRENCY_FIXED, NAME_MAX_LENGTH


class OrganizationForm(forms.Form):
    name = forms.CharField(
        label=_("Company name"),
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        error_messages={"required": _("Enter the company name.")},
    )
    country = forms.ChoiceField(label=_("Country"))
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=settings.CURRENCY_CHOICES,
        help_text=_(
            "Credit is bought and spent in this currency. It cannot change once credit has "
            "been bought."
        ),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIME_ZONE_CHOICES,
        help_text=_("Months and days in reports start at midnight in this time zone."),
    )

    def __init__(self, *args, currency_locked: bool = False, **kwargs):
        """`currency_locked` disables the currency; see OrganizationSettingsForm for the rest."""
        super().__init__(*args, **kwargs)
        # Country names follow the language of the request.
        self.fields["country"].choices = [("", "---------"), *countries]
        self.currency_locked = currency_locked
        if currency_locked:
            currency = self.fields["currency"]
            currency.disabled = True
            currency.help_text = CURRENCY_FIXED

    def clean(self):
        cleaned = super().clean()
        # A disabled field keeps its initial value whatever is posted: a form shown before the
        # currency was fixed, and sent after, must say why the change was not made.
        posted = self.data.get(self.add_prefix("currency"))
        if (
            self.currency_locked
            and posted
            and posted != self.get_initial_for_field(self.fields["currency"], "currency")
        ):
            self.add_error("currency", CURRENCY_FIXED)
        return cleaned


class OrganizationSettingsForm(OrganizationForm):
    """The organization form of the settings page, with the settings of a running company."""

    invitation_expiry_days = forms.IntegerField(
        label=_("Invitations expire after (days)"),
        min_value=1,
        max_value=365,
        help_text=_("Unanswered invitations stop working after this many days."),
    )
