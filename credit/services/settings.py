"""Saving an organization's credit settings: billing details for receipts, who may buy, the
low-balance warning, company auto-recharge, and the payment method it charges.

Owns the CreditSettings row (one per organization), made with the organization
(`credit_settings_create`, run by the "organization created" hook; reads never make it).
Every change locks that row, writes an audit event, and keeps the rules: finance members only
as purchasers; a recharge amount within the purchase limits and within the monthly maximum;
auto-recharge on only with a saved payment method. While the organization's currency may still
change, its amounts follow it (`credit_amounts_move_to`).
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, CreditRule, CreditRuleRun, CreditSettings
from credit.selectors.settings import credit_settings_defaults
from credit.services.ledger import amount_of, number_of
from credit.services.purchases import purchase_limits
from credit.services.stripe_gateway import currency_digits
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError


def credit_settings_create(organization: Organization) -> CreditSettings:
    """The organization's settings row, with nothing set yet; made once (a second call finds
    it). Run in the transaction that creates the organization."""
    row = CreditSettings.objects.for_org(organization).first()
    if row is None:
        row = credit_settings_defaults(organization)
        row.save()
    return row


def _locked(organization: Organization) -> CreditSettings:
    """The settings row, locked; made first for an organization that was made without it."""
    rows = CreditSettings.objects.for_org(organization).select_for_update()
    row = rows.first()
    if row is None:
        # The unique constraint on the organization lets one of two concurrent calls make it.
        CreditSettings.objects.for_org(organization).bulk_create(
            [credit_settings_defaults(organization)], ignore_conflicts=True
        )
        row = rows.get()
    return row


# Money columns of the credit rows an organization may have before its currency is fixed.
_MONEY_COLUMNS = {
    CreditSettings: (
        "auto_recharge_threshold",
        "auto_recharge_amount",
        "auto_recharge_monthly_max",
        "low_balance_warning",
    ),
    CreditRule: ("amount", "threshold", "monthly_max"),
    CreditRuleRun: ("total",),
    Account: ("balance", "monthly_spending_cap"),
}


def credit_amounts_move_to(organization: Organization, previous: str) -> None:
    """The organization's currency changed (before any purchase fixed it): its credit amounts
    keep their numbers in the new currency. Run under the organization row's lock, by the
    "currency changed" hook. No transfer exists yet (the first one fixes the currency), so
    every balance is zero."""
    for model, columns in _MONEY_COLUMNS.items():
        model.objects.for_org(organization).update(
            **{f"{column}_currency": organization.currency for column in columns}
        )


def _money_or_zero(value, organization: Organization, field: str) -> Money:
    """An amount of the organization's currency where 0 (or nothing) means "none". Takes
    Money, Decimal, int or a plain machine string (forms read what people type)."""
    try:
        if value is None or (isinstance(value, str) and not value.strip()):
            return Money(0, organization.currency)
        if number_of(value) == 0:
            return Money(0, organization.currency)
        return amount_of(value, organization.currency)
    except ApplicationError as error:
        error.field = field
        raise


def credit_settings_update(
    *,
    organization: Organization,
    actor: Member,
    billing_name: str,
    billing_address: str,
    vat_number: str,
    purchasers: Iterable[Member],
    low_balance_warning,
    ip_address: str | None = None,
) -> CreditSettings:
    """Save the billing details, the finance members allowed to buy credit, and the level
    below which admins are warned (0: never). Locks the settings row."""
    purchasers = list(purchasers)
    allowed = {
        member.pk
        for member in Member.objects.for_org(organization).filter(
            pk__in=[member.pk for member in purchasers],
            role=Role.FINANCE,
            status=Member.Status.ACTIVE,
        )
    }
    if len(allowed) != len({member.pk for member in purchasers}):
        raise ApplicationError(
            _("Only active finance members can be allowed to buy credit."), field="purchasers"
        )
    warning = _money_or_zero(low_balance_warning, organization, "low_balance_warning")
    with transaction.atomic():
        row = _locked(organization)
        before = {
            "billing_name": row.billing_name,
            "billing_address": row.billing_address,
            "vat_number": row.vat_number,
            "low_balance_warning": str(row.low_balance_warning.amount),
            "purchasers": sorted(row.purchasers.values_list("pk", flat=True)),
        }
        row.billing_name = billing_name.strip()[:200]
        row.billing_address = billing_address.strip()
        row.vat_number = "".join(vat_number.split()).upper()[:40]
        if warning != row.low_balance_warning:
            row.low_balance_warned_at = None
        row.low_balance_warning = warning
        row.save()
        row.purchasers.set(sorted(allowed))
        after = {
            "billing_name": row.billing_name,
            "billing_address": row.billing_address,
            "vat_number": row.vat_number,
            "low_balance_warning": str(row.low_balance_warning.amount),
            "purchasers": sorted(allowed),
        }
        changed = {key: after[key] for key in after if after[key] != before[key]}
        if changed:
            audit_record(
                organization=organization,
                actor=actor,
                verb="credit_settings.updated",
                data=changed,
                ip_address=ip_address,
            )
    return row


def auto_recharge_update(
    *,
    organization: Organization,
    actor: Member,
    enabled: bool,
    threshold,
    amount,
    monthly_max,
    ip_address: str | None = None,
) -> CreditSettings:
    """Save the company auto-recharge: on or off, below which balance, how much, and at most
    how much a month. Turning it on needs a saved payment method and clears the reason it was
    turned off. Locks the settings row; after commit, starts a recharge at once if the balance
    is already below the threshold."""
    threshold = _money_or_zero(threshold, organization, "threshold")
    amount = _money_or_zero(amount, organization, "amount")
    monthly_max = _money_or_zero(monthly_max, organization, "monthly_max")
    if enabled:
        _check_recharge(organization, threshold, amount, monthly_max)
    with transaction.atomic():
        row = _locked(organization)
        if enabled and not row.stripe_payment_method_id:
            raise ApplicationError(
                _("Save a payment method first: automatic recharge charges it."),
                field="enabled",
            )
        was_enabled = row.auto_recharge_enabled
        row.auto_recharge_enabled = enabled
        row.auto_recharge_threshold = threshold
        row.auto_recharge_amount = amount
        row.auto_recharge_monthly_max = monthly_max
        if enabled:
            row.auto_recharge_disabled_reason = ""
        row.save()
        audit_record(
            organization=organization,
            actor=actor,
            verb="auto_recharge.updated",
            data={
                "enabled": enabled,
                "was_enabled": was_enabled,
                "threshold": str(threshold.amount),
                "amount": str(amount.amount),
                "monthly_max": str(monthly_max.amount),
            },
            ip_address=ip_address,
        )
        if enabled:
            # Robust: the settings are saved whatever happens next; a recharge that could not
            # start now is started by the periodic check (credit.check_auto_recharges).
            transaction.on_commit(_start_if_needed(organization), robust=True)
    return row


def _start_if_needed(organization: Organization):
    def auto_recharge_start() -> None:
        from credit.services.auto_recharge import auto_recharge_start_if_needed

        auto_recharge_start_if_needed(organization=organization)

    return auto_recharge_start


def _check_recharge(organization: Organization, threshold: Money, amount: Money, monthly_max):
    if threshold.amount <= 0:
        raise ApplicationError(_("Enter the balance below which to recharge."), field="threshold")
    if amount.amount <= 0:
        raise ApplicationError(_("Enter the amount of each recharge."), field="amount")
    smallest, largest = purchase_limits(organization)
    if amount < smallest or amount > largest:
        raise ApplicationError(
            _("Recharge between %(smallest)s and %(largest)s at a time.")
            % {"smallest": smallest, "largest": largest},
            field="amount",
        )
    if monthly_max < amount:
        raise ApplicationError(
            _("The monthly maximum must be at least the amount of one recharge."),
            field="monthly_max",
        )


def payment_method_save(
    *,
    organization: Organization,
    customer_id: str,
    payment_method_id: str,
    label: str,
    enable: bool,
    default_amount: Money | None = None,
    source: str = "",
) -> CreditSettings:
    """Keep the Stripe customer and payment method that automatic recharges charge (from the
    webhook of a completed Checkout). `enable` turns auto-recharge on and clears why it was
    off; when no recharge was set up yet, `default_amount` sets one up: recharge with that
    amount when the balance falls below a fifth of it, at most three times a month. Locks the
    settings row; saving the same method again changes nothing."""
    with transaction.atomic():
        row = _locked(organization)
        same = (
            row.stripe_customer_id == customer_id
            and row.stripe_payment_method_id == payment_method_id
            and (row.auto_recharge_enabled or not enable)
        )
        if same:
            return row
        row.stripe_customer_id = customer_id or row.stripe_customer_id
        row.stripe_payment_method_id = payment_method_id
        row.payment_method_label = label[:100]
        if enable:
            row.auto_recharge_enabled = True
            row.auto_recharge_disabled_reason = ""
            if row.auto_recharge_amount.amount <= 0 and default_amount is not None:
                _default_recharge(organization, row, default_amount)
            if row.auto_recharge_amount.amount <= 0 or row.auto_recharge_threshold.amount <= 0:
                # Nothing to charge yet: the owner sets the amounts on the auto-recharge page.
                row.auto_recharge_enabled = False
        row.save()
        audit_record(
            organization=organization,
            actor=None,
            verb="payment_method.saved",
            data={"label": row.payment_method_label, "source": source, "enabled": enable},
        )
    return row


def _default_recharge(organization: Organization, row: CreditSettings, amount: Money) -> None:
    currency = organization.currency
    fifth = (amount.amount / 5).quantize(Decimal(10) ** -currency_digits(currency))
    row.auto_recharge_amount = amount
    row.auto_recharge_threshold = Money(fifth if fifth > 0 else amount.amount, currency)
    row.auto_recharge_monthly_max = amount * 3
