"""Forms of the credit rules page: a new rule, and pausing or resuming one.

Amounts are read by the shared `AmountField` (skypemgr.amounts: the page's language, the
organization's currency and its decimals); lists and members are chosen among the
organization's own, so an id of another organization is "not found". Which fields a kind of
rule needs is checked here for a friendly form and again by the service, which has the last
word.
"""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from credit.models import CreditRule
from credit.services.rules import Start, Target
from members.forms.picker import MemberPickerField
from members.models import MemberList
from organizations.models import Organization
from skypemgr.amounts import AmountField

NOT_FOUND = _("This choice was not found. Reload the page and choose again.")


class CreditRuleForm(forms.Form):
    # A one-time key, made when the form is first shown: a double submit creates one rule.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    kind = forms.ChoiceField(
        label=_("Rule"),
        choices=CreditRule.Kind.choices,
        widget=forms.RadioSelect,
        initial=CreditRule.Kind.AUTO_RECHARGE,
        error_messages={"required": _("Choose a kind of rule.")},
    )
    target = forms.ChoiceField(
        label=_("For"),
        choices=Target.choices,
        widget=forms.RadioSelect,
        initial=Target.EVERYONE,
        error_messages={"required": _("Choose whom the rule is for.")},
    )
    member_list = forms.ModelChoiceField(
        label=_("List"),
        queryset=MemberList.objects.none(),
        required=False,
        empty_label=_("Choose a list"),
        error_messages={"invalid_choice": NOT_FOUND},
    )
    amount = AmountField(
        label=_("Amount"),
        help_text=_(
            "Automatic recharge: what each recharge adds. Add each month: what each member "
            "receives on the 1st. Top up: the balance each member is brought up to."
        ),
    )
    threshold = AmountField(
        label=_("When the balance falls below"),
        required=False,
        help_text=_(
            "Automatic recharge only. Credit taken back from a member is not recharged "
            "automatically: their recharges resume once they spend again."
        ),
    )
    monthly_max = AmountField(
        label=_("At most per month"),
        required=False,
        help_text=_("Automatic recharge only: the most one member may receive in a month."),
    )
    start = forms.ChoiceField(
        label=_("First allocation"),
        choices=Start.choices,
        widget=forms.RadioSelect,
        initial=Start.THIS_MONTH,
        required=False,
        help_text=_("Monthly rules only."),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["member_list"].queryset = MemberList.objects.for_org(organization)
        # Chosen by typing (thousands of members), among the active ones.
        self.fields["member"] = MemberPickerField(
            organization=organization,
            scope="active",
            label=_("Member"),
            required=False,
            error_messages={"invalid_choice": NOT_FOUND},
        )
        self.order_fields(["idempotency_key", "kind", "target", "member_list", "member"])
        for name in ("amount", "threshold", "monthly_max"):
            field = self.fields[name]
            field.currency = organization.currency
            field.label = f"{field.label} ({organization.currency})"
        if not self.is_bound:
            self.initial["idempotency_key"] = uuid.uuid4().hex

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if (
            target == Target.LIST
            and not data.get("member_list")
            and "member_list" not in self.errors
        ):
            self.add_error("member_list", _("Choose a list."))
        if target == Target.MEMBER and not data.get("member") and "member" not in self.errors:
            self.add_error("member", _("Choose a member."))
        if data.get("kind") == CreditRule.Kind.AUTO_RECHARGE:
            if data.get("threshold") is None and "threshold" not in self.errors:
                self.add_error("threshold", _("Say below which balance to recharge."))
            if data.get("monthly_max") is None and "monthly_max" not in self.errors:
                self.add_error(
                    "monthly_max", _("Say how much may be recharged each month at most.")
                )
        return data


class CreditRuleActiveForm(forms.Form):
    """Pause or resume a rule of the organization."""

    rule = forms.ModelChoiceField(
        queryset=CreditRule.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"required": NOT_FOUND, "invalid_choice": NOT_FOUND},
    )
    active = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = CreditRule.objects.for_org(organization)
