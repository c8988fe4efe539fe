"""Forms of the purchase pages: buying credit, the purchase history's filters, the company
auto-recharge, the saved payment method, and the credit settings."""

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from credit.models import Purchase
from credit.services.purchases import LIMIT_SCALE, purchase_limits
from credit.services.stripe_gateway import MethodChoice, method_choices
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.amounts import AmountField

PRESETS = (50, 100, 250, 500)
OTHER = "other"


def new_form_key() -> str:
    return uuid.uuid4().hex


class OneTimeKeyMixin(forms.Form):
    """A hidden key made when the form is first shown: sending the form twice acts once."""

    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": _("This form has expired. Please try again.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_form_key())


def plain(number: Decimal) -> str:
    """A Decimal as the suggested amounts' choice values: "50", "12.5" (never "5E+1")."""
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def presets_for(organization: Organization) -> list[Money]:
    """The suggested amounts that fit this organization's purchase limits."""
    scale = LIMIT_SCALE.get(organization.currency, 1)
    smallest, largest = purchase_limits(organization)
    amounts = [Money(Decimal(value) * scale, organization.currency) for value in PRESETS]
    return [amount for amount in amounts if smallest <= amount <= largest]


class BuyForm(OneTimeKeyMixin):
    method = forms.ChoiceField(
        label=_("Payment method"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how to pay."),
            "invalid_choice": _("Choose how to pay."),
        },
    )
    amount_choice = forms.ChoiceField(
        label=_("Amount"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose an amount."),
            "invalid_choice": _("Choose an amount."),
        },
    )
    custom_amount = AmountField(label=_("Other amount"), required=False)
    auto_recharge = forms.BooleanField(
        label=_("Enable auto-recharge"),
        required=False,
        help_text=_(
            "Save this card or PayPal account and recharge the company balance automatically "
            "when it runs low."
        ),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["custom_amount"].currency = organization.currency
        self.methods: list[MethodChoice] = method_choices(organization)
        self.fields["method"].choices = [(m.value, m.label) for m in self.methods]
        available = [m.value for m in self.methods if m.available]
        self.initial.setdefault("method", available[0] if available else "")
        self.presets = presets_for(organization)
        self.fields["amount_choice"].choices = [
            *((plain(p.amount), str(p)) for p in self.presets),
            (OTHER, _("Other amount")),
        ]
        if self.presets:
            default = self.presets[1] if len(self.presets) > 1 else self.presets[0]
            self.initial.setdefault("amount_choice", plain(default.amount))
        else:
            self.initial.setdefault("amount_choice", OTHER)

    def clean_method(self):
        method = self.cleaned_data["method"]
        if not any(m.value == method and m.available for m in self.methods):
            raise forms.ValidationError(_("This payment method is not available here."))
        return method

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("amount_choice")
        if choice is None:
            return cleaned
        if choice == OTHER:
            if cleaned.get("custom_amount") is not None:
                cleaned["amount"] = cleaned["custom_amount"]
            elif "custom_amount" not in self.errors:
                self.add_error("custom_amount", self.fields["custom_amount"].required_message())
        else:
            # What is left in "Other amount" does not count when a suggested amount is chosen.
            self.errors.pop("custom_amount", None)
            cleaned["amount"] = Money(Decimal(choice), self.organization.currency)
        if cleaned.get("method") == Purchase.Method.BANK_TRANSFER:
            cleaned["auto_recharge"] = False
        return cleaned

    def field_for_amount_error(self) -> str:
        return "custom_amount" if self.data.get("amount_choice") == OTHER else "amount_choice"


class PurchaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Purchase.Status.choices],
    )
    method = forms.ChoiceField(
        label=_("Payment method"),
        required=False,
        choices=[("", _("All methods")), *Purchase.Method.choices],
    )


def _money_field(label, help_text=""):
    """An optional amount where 0 (or nothing) means "none"; the form sets the currency."""
    return AmountField(label=label, help_text=help_text, required=False, allow_zero=True)


class AutoRechargeForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Recharge the company balance automatically"), required=False
    )
    threshold = _money_field(
        _("When the balance falls below"),
        _("A recharge starts as soon as the company balance goes under this amount."),
    )
    amount = _money_field(_("Recharge with"), _("Charged to the saved payment method."))
    monthly_max = _money_field(
        _("At most per month"),
        _("Automatic recharges stop for the month once they would pass this total."),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        currency = organization.currency
        for name in ("threshold", "amount", "monthly_max"):
            self.fields[name].currency = currency
            self.fields[name].label = f"{self.fields[name].label} ({currency})"


class PaymentMethodForm(OneTimeKeyMixin):
    """Replace the saved payment method: one button; the key makes a double click one page."""


class CreditSettingsForm(forms.Form):
    billing_name = forms.CharField(
        label=_("Company name on receipts"),
        required=False,
        max_length=200,
        help_text=_("Leave empty to use the organization's name."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    billing_address = forms.CharField(
        label=_("Billing address"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
    )
    vat_number = forms.RegexField(
        label=_("VAT number"),
        required=False,
        max_length=40,
        regex=r"^[A-Za-z0-9 .\-]*$",
        error_messages={"invalid": _("Use letters, digits, spaces, dots and dashes only.")},
    )
    purchasers = forms.ModelMultipleChoiceField(
        label=_("Finance members who may buy credit"),
        required=False,
        queryset=Member.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Owners can always buy credit."),
        error_messages={
            "invalid_choice": _("Only active finance members can be allowed to buy credit."),
            "invalid_pk_value": _("Only active finance members can be allowed to buy credit."),
        },
    )
    low_balance_warning = _money_field(
        _("Warn admins when the company balance falls below"),
        _("Enter 0 to never send this warning."),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purchasers"].queryset = Member.objects.for_org(organization).filter(
            role=Role.FINANCE, status=Member.Status.ACTIVE
        )
        warning = self.fields["low_balance_warning"]
        warning.currency = organization.currency
        warning.label = f"{warning.label} ({organization.currency})"
