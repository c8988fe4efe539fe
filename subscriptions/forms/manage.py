"""Forms for changing a feature (cancel, automatic renewal, period), a member's access, and
what happens to a member's features when they are removed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.forms.picker import MemberPickerField
from organizations.models import Organization
from subscriptions.models import PERIOD_CHOICES

# The member picker's scope for moving a feature: active members (subscriptions.apps).
ACTIVE_MEMBERS_SCOPE = "features-active"


class When:
    PERIOD_END = "period_end"
    NOW = "now"


class CancelForm(forms.Form):
    """Cancel at the period end (the default) or now with a refund (offered to owners)."""

    when = forms.ChoiceField(
        label=_("When"),
        widget=forms.RadioSelect,
        initial=When.PERIOD_END,
        error_messages={
            "required": _("Choose when the feature ends."),
            "invalid_choice": _("Choose when the feature ends."),
        },
    )

    def __init__(self, *args, may_refund: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(When.PERIOD_END, _("At the end of the period (no refund)"))]
        if may_refund:
            choices.append((When.NOW, _("Now, with the unused part refunded to the company")))
        self.fields["when"].choices = choices


class AutoRenewForm(forms.Form):
    auto_renew = forms.TypedChoiceField(
        label=_("Automatic renewal"),
        coerce=lambda value: value == "on",
        choices=[("on", _("On")), ("off", _("Off"))],
        error_messages={
            "required": _("Choose on or off."),
            "invalid_choice": _("Choose on or off."),
        },
    )


class PeriodForm(forms.Form):
    period_months = forms.TypedChoiceField(
        label=_("Period from the next renewal"),
        coerce=int,
        choices=PERIOD_CHOICES,
        error_messages={
            "required": _("Choose a period."),
            "invalid_choice": _("Choose a period: 1, 3 or 12 months."),
        },
    )

    def __init__(self, *args, periods: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if periods is not None:
            self.fields["period_months"].choices = [
                (months, label) for months, label in PERIOD_CHOICES if months in periods
            ]


class AccessForm(forms.Form):
    may_call = forms.BooleanField(label=_("Calls"), required=False)
    may_sms = forms.BooleanField(label=_("SMS"), required=False)
    may_numbers = forms.BooleanField(label=_("Online numbers"), required=False)
    may_voicemail = forms.BooleanField(label=_("Voicemail"), required=False)


class RemovalChoice:
    CANCEL_AT_END = "cancel_end"
    CANCEL_NOW = "cancel_now"
    MOVE = "move"


class RemovalForm(forms.Form):
    """What happens to a removed member's live features."""

    features_then = forms.ChoiceField(
        label=_("Their features"),
        widget=forms.RadioSelect,
        initial=RemovalChoice.CANCEL_AT_END,
        error_messages={
            "required": _("Choose what happens to their features."),
            "invalid_choice": _("Choose what happens to their features."),
        },
    )

    def __init__(self, *args, organization: Organization, may_refund: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(RemovalChoice.CANCEL_AT_END, _("Cancel them at the end of their period"))]
        if may_refund:
            choices.append(
                (RemovalChoice.CANCEL_NOW, _("Cancel them now, refunding the unused part"))
            )
        choices.append((RemovalChoice.MOVE, _("Give them to another member")))
        self.fields["features_then"].choices = choices
        self.fields["features_to"] = MemberPickerField(
            organization=organization,
            scope=ACTIVE_MEMBERS_SCOPE,
            label=_("Member who receives them"),
            required=False,
        )

    def clean(self):
        data = super().clean()
        moving = data.get("features_then") == RemovalChoice.MOVE
        if moving and not data.get("features_to") and "features_to" not in self.errors:
            self.add_error("features_to", _("Choose who receives their features."))
        return data
