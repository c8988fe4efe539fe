"""Company auto-recharge: charging the saved payment method off-session when the company
balance falls below the threshold, at most once at a time and within a monthly maximum.

Owns the automatic-recharge Purchases (method `auto_recharge`) until Stripe answers, and the
auto-recharge switch of CreditSettings when a charge is refused. A recharge is credited only by
Stripe's webhook (credit.services.webhooks), never here.

Locks: the organization row (every decision to start a recharge is taken under it, so that the
checks and the insert are one step), then the purchase row, then the credit settings row.
The partial unique constraint `purchase_one_auto_recharge_in_flight` backs the "once at a time"
rule even for a caller that skipped the lock.
"""

import logging
import zoneinfo
from datetime import timedelta
from decimal import Decimal

import stripe
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, CreditSettings, Purchase
from credit.selectors.settings import credit_settings
from credit.services.attention import PaymentNotCredited, purchase_attention_record
from credit.services.ledger import system_account
from credit.services.notifications import auto_recharge_disabled_email_owners
from credit.services.purchases import (
    purchase_create,
    purchase_credit,
    purchase_fail,
    purchase_payment_started,
)
from credit.services.stripe_gateway import (
    from_minor_units,
    payment_intent_off_session_create,
    payment_intent_retrieve,
    stripe_configured,
)
from organizations.audit import audit_record
from organizations.models import Organization
from organizations.scoping import all_tenants
from skypemgr.after_commit import task_after_commit
from skypemgr.errors import ApplicationError

logger = logging.getLogger(__name__)

# An automatic recharge in flight for longer than this is asked about at Stripe (the charge
# task or the webhook was lost); one never sent is charged again until RECHARGE_FOR has passed
# (Stripe keeps an idempotency key for 24 hours, so the retry cannot make a second charge).
STALLED_AFTER = timedelta(minutes=30)
RECHARGE_FOR = timedelta(hours=12)

# Purchases that count against the monthly maximum: every recharge charged or being charged.
COUNTED = (
    Purchase.Status.PENDING,
    Purchase.Status.PROCESSING,
    Purchase.Status.PAID,
    Purchase.Status.REFUNDED,
)


def _configured(settings_row: CreditSettings) -> bool:
    return bool(
        settings_row.auto_recharge_enabled
        and settings_row.stripe_customer_id
        and settings_row.stripe_payment_method_id
        and settings_row.auto_recharge_amount.amount > 0
        and settings_row.auto_recharge_threshold.amount > 0
    )


def month_start(organization: Organization):
    """Midnight on the 1st of this month in the organization's time zone (an aware datetime)."""
    try:
        zone = zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    now = timezone.now().astimezone(zone)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def auto_recharged_this_month(organization: Organization) -> Money:
    total = (
        Purchase.objects.for_org(organization)
        .filter(
            method=Purchase.Method.AUTO_RECHARGE,
            status__in=COUNTED,
            created_at__gte=month_start(organization),
        )
        .aggregate(total=Sum("amount"))["total"]
    )
    return Money(total or Decimal(0), organization.currency)


def auto_recharge_start_if_needed(*, organization: Organization) -> Purchase | None:
    """Start one off-session recharge when the company balance is below the threshold.

    Starts nothing unless auto-recharge is on with a saved payment method, the balance is below
    the threshold, no automatic recharge is waiting or processing, and this month's recharges
    (in the organization's time zone) plus this one stay within the monthly maximum. Under the
    organization row's lock it re-reads all of this, creates the Purchase, and after commit a
    task charges the card (`auto_recharge_charge`). Safe to call from many threads at once:
    one recharge starts. Returns it, or None.
    """
    if not _configured(credit_settings(organization)) or not stripe_configured():
        return None
    try:
        with transaction.atomic():
            Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
            settings_row = CreditSettings.objects.for_org(organization).get()
            if not _configured(settings_row):
                return None
            company = system_account(organization, Account.Kind.ORGANIZATION)
            if company.balance >= settings_row.auto_recharge_threshold:
                return None
            in_flight = Purchase.objects.for_org(organization).filter(
                method=Purchase.Method.AUTO_RECHARGE, status__in=Purchase.IN_FLIGHT
            )
            if in_flight.exists():
                return None
            amount = settings_row.auto_recharge_amount
            if auto_recharged_this_month(organization) + amount > (
                settings_row.auto_recharge_monthly_max
            ):
                return None
            purchase = purchase_create(
                organization=organization,
                actor=None,
                method=Purchase.Method.AUTO_RECHARGE,
                amount=amount,
            )
            audit_record(
                organization=organization,
                actor=None,
                verb="auto_recharge.started",
                target=purchase,
                data={
                    "amount": str(amount.amount),
                    "balance": str(company.balance.amount),
                    "threshold": str(settings_row.auto_recharge_threshold.amount),
                },
            )
            from credit.tasks.purchases import auto_recharge_charge as charge_task

            # Lost with the broker down: the stalled-recharge sweep charges it.
            task_after_commit(charge_task, organization.pk, purchase.pk)
    except IntegrityError:
        # Another recharge went in flight between our check and our insert.
        return None
    except ApplicationError as error:
        # The amount no longer fits the purchase limits: nothing starts; the settings page
        # shows the limits when an owner next saves.
        logger.warning("Auto-recharge of organization %s not started: %s", organization.pk, error)
        return None
    return purchase


def _auto_recharge_of(organization: Organization, purchase_id: int) -> Purchase | None:
    return (
        Purchase.objects.for_org(organization)
        .select_related("organization")
        .filter(pk=purchase_id, method=Purchase.Method.AUTO_RECHARGE)
        .first()
    )


def auto_recharge_charge(*, organization: Organization, purchase_id: int) -> Purchase | None:
    """Charge the saved payment method for a waiting automatic recharge (the task's work).

    Idempotent: a purchase no longer waiting, or already sent to Stripe, is left alone, and
    the PaymentIntent's idempotency key (`purchase-<id>-intent`) makes a repeated call return
    the same charge. A refusal by the card fails the purchase and turns auto-recharge off
    (owners emailed once); a network or Stripe outage raises stripe.StripeError for the task
    to retry. Credits nothing: the webhook does.
    """
    purchase = _auto_recharge_of(organization, purchase_id)
    if purchase is None or purchase.status != Purchase.Status.PENDING:
        return purchase
    organization = purchase.organization
    settings_row = credit_settings(organization)
    if not (settings_row.stripe_customer_id and settings_row.stripe_payment_method_id):
        return auto_recharge_refused(
            purchase=purchase, reason=_("No payment method is saved for automatic recharge.")
        )
    if not stripe_configured():
        return purchase_fail(
            purchase=purchase, reason=_("Online payments are not set up on this server.")
        )
    try:
        intent = payment_intent_off_session_create(
            purchase=purchase,
            customer_id=settings_row.stripe_customer_id,
            payment_method_id=settings_row.stripe_payment_method_id,
        )
    except stripe.CardError as error:
        return auto_recharge_refused(
            purchase=purchase, reason=refusal_reason(error.code, error.user_message or "")
        )
    except stripe.InvalidRequestError as error:
        # The customer or the payment method is gone or unusable: no retry can help.
        return auto_recharge_refused(
            purchase=purchase,
            reason=_("The saved payment method can no longer be charged (%(message)s).")
            % {"message": error.user_message or error.code or "invalid request"},
        )
    if intent["status"] in ("requires_action", "requires_payment_method", "canceled"):
        purchase_payment_started(purchase=purchase, payment_intent_id=intent["id"])
        return auto_recharge_refused(
            purchase=purchase, reason=refusal_reason("authentication_required")
        )
    return purchase_payment_started(
        purchase=purchase, payment_intent_id=intent["id"], processing=True
    )


def auto_recharge_give_up(*, organization: Organization, purchase_id: int, reason: str) -> None:
    """The charge could not reach Stripe after every retry: the recharge failed (nothing was
    charged with certainty, and the next drop of the balance tries again)."""
    purchase = _auto_recharge_of(organization, purchase_id)
    if purchase is not None and not purchase.stripe_payment_intent_id:
        purchase_fail(purchase=purchase, reason=reason)


def refusal_reason(code: str | None, message: str = "") -> str:
    """Why a charge of the saved payment method was refused, for the owners."""
    if code == "authentication_required":
        return _(
            "The bank asked the card holder to confirm the payment, which cannot be done "
            "automatically (authentication_required)."
        )
    if code == "card_declined":
        return _("The card was declined (card_declined).")
    return _("The payment was refused: %(message)s") % {"message": message or code or "?"}


def auto_recharge_refused(*, purchase: Purchase, reason: str) -> Purchase:
    """The saved payment method was refused: the purchase fails, auto-recharge is turned off
    with the reason, and the owners are emailed once (for this recharge) with a link to fix
    the payment method. Nothing is credited. Locks the purchase, then the credit settings.
    """
    organization = purchase.organization
    with transaction.atomic():
        purchase = purchase_fail(purchase=purchase, reason=reason)
        if purchase.status != Purchase.Status.FAILED:
            # Paid or refunded meanwhile (a late, out-of-order event): nothing was refused.
            return purchase
        settings_row = CreditSettings.objects.for_org(organization).select_for_update().first()
        if settings_row is not None and settings_row.auto_recharge_enabled:
            settings_row.auto_recharge_enabled = False
            settings_row.auto_recharge_disabled_reason = reason[:500]
            settings_row.save(
                update_fields=["auto_recharge_enabled", "auto_recharge_disabled_reason"]
            )
            audit_record(
                organization=organization,
                actor=None,
                verb="auto_recharge.disabled",
                target=purchase,
                data={"reason": reason[:500]},
            )
        auto_recharge_disabled_email_owners(
            organization=organization, purchase=purchase, reason=reason
        )
    return purchase


def auto_recharges_stalled() -> list[tuple[int, int]]:
    """(organization id, purchase id) of the automatic recharges in flight for longer than
    STALLED_AFTER, in every organization (the beat sweep's query): while one waits, no other
    recharge can start."""
    with all_tenants("the stalled auto-recharge sweep looks at every organization"):
        return list(
            Purchase.objects.filter(
                method=Purchase.Method.AUTO_RECHARGE,
                status__in=Purchase.IN_FLIGHT,
                created_at__lt=timezone.now() - STALLED_AFTER,
            )
            .order_by("pk")
            .values_list("organization_id", "pk")
        )


def auto_recharge_reconcile(*, organization: Organization, purchase_id: int) -> Purchase | None:
    """Settle an automatic recharge that has waited too long, from what Stripe says.

    Never sent to Stripe (no PaymentIntent recorded): charged now, with the same idempotency
    key as the lost task's, or failed once RECHARGE_FOR has passed. Sent: the PaymentIntent is
    read; succeeded is credited (exactly as the webhook would, once), refused or canceled
    fails the recharge and turns auto-recharge off, anything else keeps waiting. An amount
    or currency that differs from the purchase's is left to platform staff (recorded on the
    purchase and emailed, credit.services.attention), not credited. Raises
    stripe.StripeError when Stripe cannot be reached, for the next sweep to retry.
    """
    purchase = _auto_recharge_of(organization, purchase_id)
    if purchase is None or purchase.status not in Purchase.IN_FLIGHT:
        return purchase
    if not purchase.stripe_payment_intent_id:
        if timezone.now() - purchase.created_at > RECHARGE_FOR:
            return purchase_fail(
                purchase=purchase, reason=_("The charge could not be sent to the payment provider.")
            )
        return auto_recharge_charge(organization=organization, purchase_id=purchase.pk)
    if not stripe_configured():
        return purchase
    intent = payment_intent_retrieve(purchase.stripe_payment_intent_id)
    status = intent.get("status")
    if status == "succeeded":
        currency = str(intent.get("currency") or purchase.amount.currency).upper()
        received = from_minor_units(intent.get("amount_received") or 0, currency)
        if received != purchase.amount:
            return purchase_attention_record(
                purchase=purchase,
                problem="amount",
                reason=_(
                    "Stripe received %(received)s for the automatic recharge %(number)s of "
                    "%(expected)s; not credited."
                )
                % {"received": received, "number": purchase.number, "expected": purchase.amount},
            )
        try:
            return purchase_credit(purchase=purchase, payment_intent_id=intent["id"])
        except PaymentNotCredited as refused:
            return purchase_attention_record(
                purchase=refused.purchase, problem=refused.problem, reason=refused.message
            )
    if status in ("requires_payment_method", "requires_action", "canceled"):
        error = intent.get("last_payment_error") or {}
        code = error.get("code") or (
            "authentication_required" if status == "requires_action" else ""
        )
        return auto_recharge_refused(
            purchase=purchase, reason=refusal_reason(code, str(error.get("message") or status))
        )
    return purchase
