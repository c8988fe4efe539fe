"""The feature settings form: the renewal policy as owners type it (amounts in the page's
language, in the organization's currency)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from skypemgr.amounts import AmountField, amount_hint


def _days(label, help_text, low: int, high: int) -> forms.IntegerField:
    message = _("Enter a whole number of days from %(low)d to %(high)d.") % {
        "low": low,
        "high": high,
    }
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=low,
        max_value=high,
        error_messages={
            "required": message,
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class FeatureSettingsForm(forms.Form):
    grace_days = _days(
        _("Grace period (days)"),
        _("How long an unpaid renewal is retried, every day, before the feature is suspended."),
        0,
        60,
    )
    number_hold_days = _days(
        _("Keep suspended numbers for (days)"),
        _("A suspended number is released only after this, so a late payment saves it."),
        0,
        365,
    )
    renew_min_balance = AmountField(
        label=_("Renew only if the company balance stays above"),
        required=False,
        allow_zero=True,
    )
    notice_days = _days(
        _("Warn admins this many days ahead"),
        _("Owners and admins are emailed this many days before a large renewal day."),
        1,
        30,
    )
    notice_threshold = AmountField(
        label=_("A renewal day is large from"),
        allow_zero=True,
        error_messages={"required": _("Enter an amount, 0 to hear of every renewal day.")},
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        currency = organization.currency
        for name in ("renew_min_balance", "notice_threshold"):
            field = self.fields[name]
            field.currency = currency
            field.label = f"{field.label} ({currency})"
        self.fields["renew_min_balance"].help_text = " ".join(
            [
                str(_("Leave empty to renew whatever the balance.")),
                str(amount_hint(currency)),
            ]
        )
        self.fields["notice_threshold"].help_text = " ".join(
            [
                str(_("The total of the renewals due on one day.")),
                str(amount_hint(currency)),
            ]
        )
