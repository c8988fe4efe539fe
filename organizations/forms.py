"""Forms for creating an organization and changing its settings."""

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from organizations.models import TIME_ZONE_CHOICES
from organizations.services import CURRENCY_FIXED, NAME_MAX_LENGTH
from organizations.time_zones import country_time_zone, country_time_zones, zones_by_country


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
    # Left empty, it follows the country (see clean()).
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=format_lazy(
            "{} {}",
            _("Months and days in reports start at midnight in this time zone."),
            _("Left empty, it is the country's."),
        ),
    )
    # The country the time zone list was shown for: when the country changes on submit, the
    # time zone follows it (the page's script does the same before submitting).
    zone_country = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, currency_locked: bool = False, **kwargs):
        """`currency_locked` disables the currency; see OrganizationSettingsForm for the rest."""
        super().__init__(*args, **kwargs)
        # Country names follow the language of the request.
        self.fields["country"].choices = [("", "---------"), *countries]
        self.currency_locked = currency_locked
        country = self._country_shown()
        self.zones_shown_for = self.data.get("zone_country", "") if self.is_bound else country
        if self.is_bound:
            # Shown again (after an error), the list is the current country's.
            self.data = self.data.copy()
            self.data["zone_country"] = country
        else:
            self.initial["zone_country"] = country
        self.fields["time_zone"].choices = time_zone_choices(country)
        # static/js/time_zone.js: the list follows the country without a round trip.
        self.fields["country"].widget.attrs["data-time-zones"] = "time-zones-data"
        if currency_locked:
            currency = self.fields["currency"]
            currency.disabled = True
            currency.help_text = CURRENCY_FIXED

    def _check_currency_fixed(self) -> None:
        # A disabled field keeps its initial value whatever is posted: a form shown before the
        # currency was fixed, and sent after, must say why the change was not made.
        posted = self.data.get(self.add_prefix("currency"))
        if (
            self.currency_locked
            and posted
            and posted != self.get_initial_for_field(self.fields["currency"], "currency")
        ):
            self.add_error("currency", CURRENCY_FIXED)

    def _country_shown(self) -> str:
        if self.is_bound:
            value = self.data.get(self.add_prefix("country"), "")
        else:
            value = self.initial.get("country") or ""
        return value if value in dict(countries) else ""

    def clean(self):
        cleaned = super().clean()
        self._check_currency_fixed()
        cleaned.pop("zone_country", None)
        country = cleaned.get("country")
        if not country:
            return cleaned
        zone = cleaned.get("time_zone")
        zones = country_time_zones(country)
        moved = country != self.zones_shown_for and zone not in zones
        if zone and not moved:
            return cleaned
        default = country_time_zone(country)
        if default:
            cleaned["time_zone"] = default
        elif zones:
            self.add_error(
                "time_zone",
                _("%(country)s has several time zones: choose the one your reports follow.")
                % {"country": dict(countries)[country]},
            )
        else:
            self.add_error("time_zone", _("Choose a time zone."))
        return cleaned


def time_zone_choices(country: str) -> list:
    """Every time zone, the country's first (in a group of their own) when it has several."""
    zones = country_time_zones(country)
    empty = [("", _("The country's time zone"))]
    if not zones:
        return [*empty, *TIME_ZONE_CHOICES]
    labels = dict(TIME_ZONE_CHOICES)
    first = [(zone, labels[zone]) for zone in zones]
    others = [(value, label) for value, label in TIME_ZONE_CHOICES if value not in zones]
    return [
        *empty,
        (_("Time zones of %(country)s") % {"country": dict(countries)[country]}, first),
        (_("Other time zones"), others),
    ]


def time_zones_data() -> dict:
    """For the page's script (static/js/time_zone.js): each country's zones and the one
    chosen when it has one clock, and the labels of the two groups of the list."""
    return {
        "countries": {
            code: {"zones": zones, "default": country_time_zone(code)}
            for code, zones in zones_by_country().items()
        },
        "country_group": str(_("Time zones of %(country)s")),
        "other_group": str(_("Other time zones")),
    }


class OrganizationSettingsForm(OrganizationForm):
    """The organization form of the settings page, with the settings of a running company."""

    invitation_expiry_days = forms.IntegerField(
        label=_("Invitations expire after (days)"),
        min_value=1,
        max_value=365,
        help_text=_("Unanswered invitations stop working after this many days."),
    )
