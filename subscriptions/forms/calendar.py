"""The renewal calendar's query string: how far ahead (30, 60 or 90 days), which week's rows
to list and the page of them; an export's file format. A value that does not fit falls back to
the default (30 days, the first week with renewals) and the field says why."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from subscriptions.selectors.calendar import WINDOWS


class CalendarForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Renewals due in the next"),
        choices=[(days, str(days)) for days in WINDOWS],
        coerce=int,
        required=False,
        empty_value=WINDOWS[0],
        error_messages={"invalid_choice": _("Choose 30, 60 or 90 days.")},
    )
    week = forms.DateField(required=False, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [
            (days, gettext("%(days)d days") % {"days": days}) for days in WINDOWS
        ]

    def value(self, name: str, default=None):
        """The cleaned value, or `default` when it was missing or did not fit."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    @property
    def window(self) -> int:
        return self.value("days", WINDOWS[0])


class CalendarExportForm(CalendarForm):
    format = forms.ChoiceField(
        choices=[("csv", "CSV"), ("xlsx", "XLSX")],
        error_messages={
            "required": _("Choose CSV or XLSX."),
            "invalid_choice": _("Choose CSV or XLSX."),
        },
    )
