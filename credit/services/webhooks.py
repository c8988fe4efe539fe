"""Stripe's webhook: verifying, storing and handling its events, once each, in any order.

Owns StripeEvent rows. An event is verified (signature and a timestamp at most 5 minutes old),
stored under its unique id before anything else, then handled under the lock of its row, so a
duplicate (sent again, or at the same time) changes nothing. Handlers only call the purchase,
auto-recharge and settings services, which are idempotent themselves: the transfer keyed
`purchase:<id>` credits a purchase once whichever of `checkout.session.completed`,
`checkout.session.async_payment_succeeded` or `payment_intent.succeeded` comes first.

Outcomes (`stripe_webhook_receive` returns the HTTP status to answer):
- 400: bad signature, old timestamp, or a body that is not an event. Nothing is written.
- 200: handled, a duplicate, an event type we do not handle, or an event about something that
  is not ours. A refusal by our own rules (an amount or currency that is not the purchase's,
  a payment for a canceled purchase) is written to StripeEvent.error and on the purchase for
  platform staff, who are emailed once (credit.services.attention); it is answered 200 too:
  retrying would not change it. Payments are compared with the purchase's own amount and
  currency, never with the organization's current currency.
- 500: an unexpected failure (a database or network error): the error is written on the event
  and Stripe retries later; the retry handles it again from the start.

Locks: the StripeEvent row, then what the services lock (purchase, accounts, settings).
"""

import json
import logging
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money
from moneyed import CURRENCIES

from credit.models import Purchase, StripeEvent
from credit.services.attention import PaymentNotCredited, purchase_attention_record
from credit.services.auto_recharge import auto_recharge_refused, refusal_reason
from credit.services.purchases import (
    purchase_credit,
    purchase_fail,
    purchase_payment_started,
    purchase_refund,
)
from credit.services.settings import payment_method_save
from credit.services.stripe_gateway import (
    CARD_UNUSABLE_CODES,
    from_minor_units,
    label_of_payment_method,
    payment_intent_payment_method,
    payment_method_label,
    setup_intent_payment_method,
    to_minor_units,
)
from organizations.models import Organization
from organizations.scoping import all_tenants, tenant_scope
from skypemgr.errors import ApplicationError

logger = logging.getLogger(__name__)

# Stripe's default: a signature older than this is refused (replayed requests).
TOLERANCE_SECONDS = 300


class WebhookRejected(Exception):
    """Not a genuine, well-formed Stripe event: answer 400 and write nothing."""


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> int:
    """Verify, store and handle one webhook request; return the HTTP status to answer."""
    try:
        event = _verified_event(payload, signature)
    except WebhookRejected as error:
        logger.warning("Stripe webhook refused: %s", error)
        return 400
    row, _created = StripeEvent.objects.get_or_create(
        event_id=event["id"],
        defaults={"type": event["type"][:100], "payload": event},
    )
    if row.processed_at is not None:
        return 200
    return _process(row.pk, event)


def _verified_event(payload: bytes, signature: str | None) -> dict:
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise WebhookRejected(f"signature: {error}") from error
    try:
        event = json.loads(payload)
    except ValueError as error:
        raise WebhookRejected("the body is not JSON") from error
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejected("the body is not a Stripe event")
    return event


# --- Handling --------------------------------------------------------------------------------


@dataclass
class _Fetched:
    """What a handler needed from Stripe's API, fetched before any lock is taken."""

    payment_method_id: str = ""
    payment_method_label: str = ""


def _process(row_id: int, event: dict) -> int:
    try:
        fetched = _fetch(event)
    except stripe.StripeError as error:
        _record_error(row_id, f"Stripe API: {error}")
        return 500
    failed = None
    with transaction.atomic():
        row = StripeEvent.objects.select_for_update().get(pk=row_id)
        if row.processed_at is not None:
            return 200
        organization, refused = None, ""
        try:
            with transaction.atomic():
                organization = _handle(event, fetched)
        except ApplicationError as error:
            # Our own rules refused it: a retry would be refused the same way. Never dropped:
            # platform staff see it on the purchase and are emailed.
            refused = str(error)
            organization = _needs_attention(event, error)
        except Exception as error:
            # Unexpected: answered 500 so that Stripe retries.
            logger.exception("Stripe event %s could not be handled", event["id"])
            failed = f"{type(error).__name__}: {error}"
        if failed is None:
            row.processed_at = timezone.now()
            row.organization = organization or row.organization
            row.error = refused[:5000]
            row.save(update_fields=["processed_at", "organization", "error"])
    if failed is not None:
        _record_error(row_id, failed)
        return 500
    return 200


def _needs_attention(event: dict, error: ApplicationError) -> Organization | None:
    """Record a refused payment on its purchase for platform staff; its organization."""
    if isinstance(error, PaymentNotCredited):
        purchase, problem = error.purchase, error.problem
    else:
        purchase, problem = _purchase_of(event["data"]["object"]), error.code
    if purchase is None:
        logger.error("Stripe event %s refused: %s", event["id"], error)
        return None
    with tenant_scope(purchase.organization):
        purchase_attention_record(
            purchase=purchase,
            problem=problem,
            reason=_("%(reason)s (Stripe event %(event)s)")
            % {"reason": error.message, "event": event["id"]},
        )
    return purchase.organization


def _record_error(row_id: int, error: str) -> None:
    StripeEvent.objects.filter(pk=row_id).update(error=error[:5000])


def _handle(event: dict, fetched: _Fetched) -> Organization | None:
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return None
    obj = event["data"]["object"]
    if event["type"] == "checkout.session.completed" and obj.get("mode") == "setup":
        return _setup_completed(obj, fetched)
    purchase = _purchase_of(obj)
    if purchase is None:
        return None
    with tenant_scope(purchase.organization):
        handler(purchase, obj, fetched)
    return purchase.organization


def _fetch(event: dict) -> _Fetched:
    """For a completed Checkout that saves a payment method: which one, and its label."""
    if event["type"] != "checkout.session.completed":
        return _Fetched()
    obj = event["data"]["object"]
    if obj.get("mode") == "setup":
        method = _id(obj.get("setup_intent"), "payment_method")
        if not method and _id(obj.get("setup_intent")):
            method = setup_intent_payment_method(_id(obj.get("setup_intent")))
    else:
        purchase = _purchase_of(obj)
        if purchase is None or not purchase.save_payment_method:
            return _Fetched()
        method = _id(obj.get("payment_intent"), "payment_method")
        if not method and _id(obj.get("payment_intent")):
            method = payment_intent_payment_method(_id(obj.get("payment_intent")))
    if not method:
        return _Fetched()
    expanded = _expanded_payment_method(obj)
    label = label_of_payment_method(expanded) if expanded else payment_method_label(method)
    return _Fetched(payment_method_id=method, payment_method_label=label)


def _expanded_payment_method(obj: dict) -> dict | None:
    for key in ("payment_intent", "setup_intent"):
        intent = obj.get(key)
        if isinstance(intent, dict) and isinstance(intent.get("payment_method"), dict):
            return intent["payment_method"]
    return None


def _id(value, attribute: str | None = None) -> str:
    """The id in `value` (an id or an expanded object), or of its `attribute`."""
    if attribute is not None:
        value = value.get(attribute) if isinstance(value, dict) else None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return ""


def _purchase_of(obj: dict) -> Purchase | None:
    """Our purchase that a Stripe object speaks of: by the ids we put in its metadata, else by
    the Checkout Session or PaymentIntent we recorded. None when it is not ours."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    purchase_id = str(metadata.get("purchase_id") or "")
    if not purchase_id and obj.get("object") == "checkout.session":
        purchase_id = str(obj.get("client_reference_id") or "")
    organization_id = str(metadata.get("organization_id") or "")
    with all_tenants("Stripe names our purchase by the ids we gave it"):
        purchases = Purchase.objects.select_related("organization")
        if purchase_id.isdigit() and len(purchase_id) < 19:
            purchase = purchases.filter(pk=int(purchase_id)).first()
            if purchase is not None and organization_id not in ("", str(purchase.organization_id)):
                return None
            return purchase
        if obj.get("object") == "checkout.session" and _id(obj):
            return purchases.filter(stripe_checkout_session_id=_id(obj)).first()
        intent = _id(obj) if obj.get("object") == "payment_intent" else _id(obj, "payment_intent")
        if intent:
            return purchases.filter(stripe_payment_intent_id=intent).first()
    return None


def _check_amount(purchase: Purchase, amount, currency) -> None:
    """Refuse to credit a payment whose amount or currency is not the purchase's own."""
    if amount is None and currency is None:
        return
    expected = purchase.amount
    currency = str(currency or "").upper()
    if currency == str(expected.currency) and amount == to_minor_units(expected):
        return
    reported = f"{amount} {currency or '?'}"
    if isinstance(amount, int) and currency in CURRENCIES:
        reported = str(from_minor_units(amount, currency))
    raise PaymentNotCredited(
        _(
            "Stripe reports a payment of %(reported)s for purchase %(number)s of %(expected)s: "
            "not credited."
        )
        % {"reported": reported, "number": purchase.number, "expected": expected},
        purchase=purchase,
        problem="amount",
    )


def _credit(purchase: Purchase, payment_intent_id: str) -> None:
    purchase_credit(purchase=purchase, payment_intent_id=payment_intent_id)


def _session_completed(purchase: Purchase, session: dict, fetched: _Fetched) -> None:
    intent = _id(session.get("payment_intent"))
    status = session.get("payment_status")
    if status == "paid":
        _check_amount(purchase, session.get("amount_total"), session.get("currency"))
        _credit(purchase, intent)
    elif status == "unpaid":
        purchase_payment_started(purchase=purchase, payment_intent_id=intent, processing=True)
    if purchase.save_payment_method and fetched.payment_method_id:
        payment_method_save(
            organization=purchase.organization,
            customer_id=_id(session.get("customer")),
            payment_method_id=fetched.payment_method_id,
            label=fetched.payment_method_label,
            enable=True,
            default_amount=purchase.amount,
            source=f"purchase {purchase.number}",
        )


def _session_async_succeeded(purchase: Purchase, session: dict, fetched: _Fetched) -> None:
    _check_amount(purchase, session.get("amount_total"), session.get("currency"))
    _credit(purchase, _id(session.get("payment_intent")))


def _session_async_failed(purchase: Purchase, session: dict, fetched: _Fetched) -> None:
    purchase_fail(purchase=purchase, reason=_("The payment did not go through."))


def _session_expired(purchase: Purchase, session: dict, fetched: _Fetched) -> None:
    purchase_fail(purchase=purchase, reason=_("The payment page expired before payment."))


def _intent_succeeded(purchase: Purchase, intent: dict, fetched: _Fetched) -> None:
    amount = intent.get("amount_received", intent.get("amount"))
    _check_amount(purchase, amount, intent.get("currency"))
    _credit(purchase, _id(intent))


def _intent_failed(purchase: Purchase, intent: dict, fetched: _Fetched) -> None:
    if purchase.method != Purchase.Method.AUTO_RECHARGE:
        # On Stripe's Checkout page the payer may try another card: only the session's own
        # events (expired, async_payment_failed) end a checkout purchase.
        return
    error = intent.get("last_payment_error") or {}
    code = error.get("code") or ""
    purchase_payment_started(purchase=purchase, payment_intent_id=_id(intent))
    if code in CARD_UNUSABLE_CODES or error.get("type") == "card_error":
        auto_recharge_refused(purchase=purchase, reason=_reason_of(code, error))
    else:
        purchase_fail(purchase=purchase, reason=_reason_of(code, error))


def _reason_of(code: str, error: dict) -> str:
    return refusal_reason(code, str(error.get("message") or ""))


def _charge_refunded(purchase: Purchase, charge: dict, fetched: _Fetched) -> None:
    currency = str(charge.get("currency") or "").upper()
    if currency != str(purchase.amount.currency):
        raise PaymentNotCredited(
            _(
                "Stripe reports a refund in %(currency)s for purchase %(number)s in "
                "%(expected)s: not applied."
            )
            % {
                "currency": currency or "?",
                "number": purchase.number,
                "expected": purchase.amount.currency,
            },
            purchase=purchase,
            problem="refund_currency",
        )
    if purchase.status in (*Purchase.IN_FLIGHT, Purchase.Status.FAILED) and charge.get("paid"):
        # The refund came before the news of the payment: the money did arrive first.
        _credit(purchase, _id(charge, "payment_intent"))
        purchase.refresh_from_db()
    refunds = (charge.get("refunds") or {}).get("data") if isinstance(charge, dict) else None
    if refunds:
        for refund in refunds:
            if refund.get("status") in ("failed", "canceled") or not refund.get("amount"):
                continue
            purchase = purchase_refund(
                purchase=purchase,
                amount=from_minor_units(refund["amount"], currency),
                refund_key=str(refund.get("id") or ""),
            )
        return
    total = from_minor_units(int(charge.get("amount_refunded") or 0), currency)
    missing = total - Money(purchase.refunded.amount, currency)
    if missing.amount > 0:
        purchase_refund(
            purchase=purchase,
            amount=missing,
            refund_key=f"{_id(charge)}-{charge.get('amount_refunded')}",
        )


def _setup_completed(session: dict, fetched: _Fetched) -> Organization | None:
    """A new payment method for auto-recharge (Checkout in setup mode): save it, turn
    auto-recharge back on."""
    metadata = session.get("metadata") if isinstance(session.get("metadata"), dict) else {}
    organization_id = str(metadata.get("organization_id") or "")
    if not organization_id.isdigit() or not fetched.payment_method_id:
        return None
    organization = Organization.objects.filter(pk=int(organization_id)).first()
    if organization is None:
        return None
    with tenant_scope(organization):
        payment_method_save(
            organization=organization,
            customer_id=_id(session.get("customer")),
            payment_method_id=fetched.payment_method_id,
            label=fetched.payment_method_label,
            enable=True,
            source="replaced",
        )
    return organization


HANDLERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_async_succeeded,
    "checkout.session.async_payment_failed": _session_async_failed,
    "checkout.session.expired": _session_expired,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
}
