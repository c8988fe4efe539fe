"""Forms of the purchase pages: buying credit, the purchase history's filters, the company
auto-recharge, the saved payment method, and the credit settings."""

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from credit.models import Purchase
from credit.services.ledger import MAX_AMOUNT
from credit.services.purchases import LIMIT_SCALE, purchase_limits
from credit.services.stripe_gateway import MethodChoice, currency_digits, method_choices
from organizations.models import Member, Organization
from organizations.roles import Role

PRESETS = (50, 100, 250, 500)
OTHER = "other"
# Bigger numbers are refused as "too large" before any arithmetic.
MAX_INPUT_LENGTH = 20


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


def parse_amount(value, currency: str) -> Decimal:
    """A positive amount with at most the currency's decimals; forms.ValidationError if not."""
    text = str(value or "").strip().replace(",", ".").replace(" ", "")
    if not text:
        raise forms.ValidationError(_("Enter an amount."))
    if len(text) > MAX_INPUT_LENGTH:
        raise forms.ValidationError(_("This amount is too large."))
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(_("Enter an amount, such as 25 or 12.50.")) from None
    if not number.is_finite():
        raise forms.ValidationError(_("Enter an amount, such as 25 or 12.50."))
    if number <= 0:
        raise forms.ValidationError(_("Enter an amount greater than zero."))
    if number > MAX_AMOUNT:
        raise forms.ValidationError(_("This amount is too large."))
    digits = currency_digits(currency)
    if number != number.quantize(Decimal(10) ** -digits):
        if digits == 0:
            raise forms.ValidationError(
                _("%(currency)s amounts have no decimals.") % {"currency": currency}
            )
        raise forms.ValidationError(
            _("Use at most %(digits)d decimal places.") % {"digits": digits}
        )
    return number


def plain(number: Decimal) -> str:
    """A Decimal as people write it: "50", "12.5" (never "5E+1")."""
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
    custom_amount = forms.CharField(
        label=_("Other amount"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
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
        currency = self.organization.currency
        if choice == OTHER:
            try:
                cleaned["amount"] = parse_amount(cleaned.get("custom_amount"), currency)
            except forms.ValidationError as error:
                self.add_error("custom_amount", error)
        else:
            cleaned["amount"] = Decimal(choice)
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


def _money_field(label, help_text="", required=False):
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        required=required,
        min_value=Decimal(0),
        max_digits=15,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


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
            self.fields[name].label = f"{self.fields[name].label} ({currency})"

    def clean_amount(self):
        amount = self.cleaned_data.get("amount")
        if amount:
            parse_amount(amount, self.organization.currency)
        return amount


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
        label = self.fields["low_balance_warning"].label
        self.fields["low_balance_warning"].label = f"{label} ({organization.currency})"
