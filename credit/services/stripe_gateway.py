"""The Stripe boundary: the client, amounts in minor units, and the calls that start payments.

Owns every request the product sends to Stripe. Each POST carries an idempotency key derived
from our own identity of the thing it creates (`purchase-<id>-checkout`, `purchase-<id>-intent`,
`organization-<id>-customer`, `organization-<id>-setup-<form key>`), so a retried request or a
double-submitted form creates one object at Stripe. Nothing here writes the database except
`purchase_checkout_start` and `payment_method_setup_start`, which record what they created
(through credit.services.purchases and credit.services.settings).

With no STRIPE_SECRET_KEY (the demo) card and PayPal are unavailable and bank transfer still
works; STRIPE_API_BASE sends the requests to a local fake or stripe-mock instead of Stripe.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from djmoney.money import Money

from credit.models import CreditSettings, Purchase
from credit.selectors.purchases import bank_transfer_details
from credit.selectors.settings import credit_settings
from credit.services.purchases import purchase_create, purchase_payment_started
from organizations.audit import audit_record
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError

logger = logging.getLogger(__name__)

# Stripe counts these currencies in whole units (no cents); the rest of ours in hundredths.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)
# Currencies in which Stripe accepts PayPal (of those the product offers).
PAYPAL_CURRENCIES = frozenset({"EUR", "GBP", "USD", "CHF", "AUD", "CAD"})
# Where Stripe's hosted pages live; a form that redirects there must be allowed by the CSP.
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# Card errors that mean the saved payment method cannot be charged without its holder.
CARD_UNUSABLE_CODES = frozenset(
    {
        "authentication_required",
        "card_declined",
        "expired_card",
        "incorrect_cvc",
        "insufficient_funds",
        "payment_method_unactivated",
        "payment_intent_authentication_failure",
    }
)


# What the purchase work's audit verbs mean, for people reading the trail (register them with
# organizations.models.register_audit_verbs). The trail reads "<actor> <label> <target>".
AUDIT_VERBS = {
    "purchase.started": gettext_lazy("started the purchase"),
    "purchase.paid": gettext_lazy("recorded the payment of"),
    "purchase.failed": gettext_lazy("recorded the failed payment of"),
    "purchase.refunded": gettext_lazy("refunded"),
    "purchase.bank_transfer_confirmed": gettext_lazy("confirmed the bank transfer of"),
    "payment_method.setup_started": gettext_lazy("opened Stripe to replace the payment method"),
    "payment_method.saved": gettext_lazy("saved the payment method for automatic recharge"),
    "auto_recharge.started": gettext_lazy("started the automatic recharge"),
    "auto_recharge.disabled": gettext_lazy("turned automatic recharge off after the refusal of"),
    "auto_recharge.updated": gettext_lazy("changed the automatic recharge settings"),
    "credit_settings.updated": gettext_lazy("changed the credit settings"),
    "purchase.needs_attention": gettext_lazy("could not credit a payment for"),
    "purchase.attention_handled": gettext_lazy("marked as handled the payment problem of"),
}


class StripeUnavailable(ApplicationError):
    code = "stripe_unavailable"


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    """A client for our account; pointed at STRIPE_API_BASE when it is set (tests, demo)."""
    if not stripe_configured():
        raise StripeUnavailable(_("Card and PayPal payments are not set up on this server."))
    base = {"api": settings.STRIPE_API_BASE.rstrip("/")} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2
    )


def checkout_origins() -> list[str]:
    """Origins a form may redirect to for payment: Stripe's, or the fake's in tests."""
    origins = [STRIPE_CHECKOUT_ORIGIN]
    if settings.STRIPE_API_BASE:
        parts = urlsplit(settings.STRIPE_API_BASE)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


# --- Amounts ---------------------------------------------------------------------------------


def currency_digits(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def to_minor_units(money: Money) -> int:
    """Stripe's integer amount: cents for EUR, yen for JPY. ValueError if it has finer parts."""
    digits = currency_digits(str(money.currency))
    scaled = money.amount * (Decimal(10) ** digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{money} has more than {digits} decimal places")
    return int(scaled)


def from_minor_units(value: int, currency: str) -> Money:
    digits = currency_digits(currency)
    return Money(Decimal(int(value)).scaleb(-digits), currency.upper())


# --- Payment methods available ---------------------------------------------------------------


@dataclass(frozen=True)
class MethodChoice:
    value: str
    label: str
    available: bool
    reason: str = ""


def method_choices(organization: Organization) -> list[MethodChoice]:
    """The ways to pay this organization may choose, with why one is not available."""
    configured = stripe_configured()
    bank_ready = bank_transfer_details() is not None
    not_set_up = gettext_lazy("Not available: online payments are not set up on this server.")
    paypal_reason = ""
    if not configured:
        paypal_reason = not_set_up
    elif organization.currency not in PAYPAL_CURRENCIES:
        paypal_reason = gettext_lazy("Not available in %(currency)s.") % {
            "currency": organization.currency
        }
    return [
        MethodChoice(
            Purchase.Method.CARD,
            gettext_lazy("Card"),
            configured,
            "" if configured else not_set_up,
        ),
        MethodChoice(Purchase.Method.PAYPAL, "PayPal", not paypal_reason, paypal_reason),
        MethodChoice(
            Purchase.Method.BANK_TRANSFER,
            gettext_lazy("Bank transfer"),
            bank_ready,
            "" if bank_ready else gettext_lazy("Not available: no bank account is set up."),
        ),
    ]


def method_available(organization: Organization, method: str) -> bool:
    return any(c.value == method and c.available for c in method_choices(organization))


# --- Checkout for a purchase -----------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseStart:
    purchase: Purchase
    # Where to send the payer: Stripe's Checkout page, or None for a bank transfer.
    redirect_url: str | None
    # True when the same form had already been sent: nothing new was created.
    repeated: bool = False


def purchase_checkout_start(
    *,
    organization: Organization,
    actor: Member,
    method: str,
    amount,
    enable_auto_recharge: bool,
    form_key: str,
    success_url: Callable[[Purchase], str],
    cancel_url: Callable[[Purchase], str],
    ip_address: str | None = None,
) -> PurchaseStart:
    """Start a purchase: record it, and for card or PayPal open a Stripe Checkout Session.

    `success_url` and `cancel_url` give Stripe's return addresses for the purchase. A form sent
    twice with the same `form_key` creates one purchase (found by the key under the lock of
    the organization row, which purchase_create takes too) and opens the same Checkout Session
    again (Stripe answers a repeated idempotency key with the first session). The Stripe call
    happens after the purchase is committed; if it fails, the purchase is marked failed.
    """
    if not form_key or len(form_key) > 64:
        raise ApplicationError(_("This form has expired. Please try again."), code="form_key")
    if not method_available(organization, method):
        raise ApplicationError(
            _("This payment method is not available. Choose another one."), field="method"
        )
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        purchase = _purchase_for_form_key(organization, form_key)
        repeated = purchase is not None
        if purchase is None:
            purchase = purchase_create(
                organization=organization,
                actor=actor,
                method=method,
                amount=amount,
                save_payment_method=enable_auto_recharge,
                form_key=form_key,
                ip_address=ip_address,
            )
    if purchase.method == Purchase.Method.BANK_TRANSFER:
        return PurchaseStart(purchase, None, repeated)
    if repeated and purchase.status not in Purchase.IN_FLIGHT:
        return PurchaseStart(purchase, None, repeated)
    session = _checkout_session_create(
        purchase, success_url=success_url(purchase), cancel_url=cancel_url(purchase)
    )
    if not purchase.stripe_checkout_session_id:
        purchase = purchase_payment_started(purchase=purchase, checkout_session_id=session["id"])
    return PurchaseStart(purchase, session["url"], repeated)


def _purchase_for_form_key(organization: Organization, form_key: str) -> Purchase | None:
    return Purchase.objects.for_org(organization).filter(form_key=form_key).first()


def _checkout_session_create(purchase: Purchase, *, success_url: str, cancel_url: str):
    organization = purchase.organization
    settings_row = credit_settings(organization)
    metadata = {"purchase_id": str(purchase.pk), "organization_id": str(organization.pk)}
    params = {
        "mode": "payment",
        "payment_method_types": [purchase.method],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": str(purchase.amount.currency).lower(),
                    "unit_amount": to_minor_units(purchase.amount),
                    "product_data": {
                        "name": _("Prepaid credit"),
                        "description": _("%(company)s, purchase %(number)s")
                        % {"company": organization.name, "number": purchase.number},
                    },
                },
            }
        ],
        "client_reference_id": str(purchase.pk),
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "payment_intent_data": {"metadata": metadata},
    }
    if purchase.save_payment_method:
        params["payment_intent_data"]["setup_future_usage"] = "off_session"
        if settings_row.stripe_customer_id:
            params["customer"] = settings_row.stripe_customer_id
        else:
            params["customer_creation"] = "always"
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"purchase-{purchase.pk}-checkout"}
        )
    except stripe.StripeError as error:
        from credit.services.purchases import purchase_fail

        logger.warning("Checkout of purchase %s could not start: %s", purchase.pk, error)
        purchase_fail(purchase=purchase, reason=_("The payment page could not be opened."))
        raise StripeUnavailable(
            _("The payment page could not be opened. Please try again in a moment.")
        ) from error
    return {"id": session["id"], "url": session["url"]}


# --- Replacing the saved payment method ------------------------------------------------------


def payment_method_setup_start(
    *,
    organization: Organization,
    actor: Member,
    form_key: str,
    success_url: str,
    cancel_url: str,
    ip_address: str | None = None,
) -> str:
    """Open a Checkout Session in setup mode to save a new payment method; return its URL.

    The company's Stripe customer is created first when it has none (and kept in its credit
    settings). The webhook `checkout.session.completed` saves the new payment method and turns
    auto-recharge back on (credit.services.webhooks).
    """
    if not form_key or len(form_key) > 64:
        raise ApplicationError(_("This form has expired. Please try again."), code="form_key")
    client = stripe_client()
    customer_id = _customer_for(organization, client)
    metadata = {"organization_id": str(organization.pk), "purpose": "auto_recharge"}
    try:
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "setup",
                "currency": organization.currency.lower(),
                "payment_method_types": ["card"],
                "customer": customer_id,
                "client_reference_id": f"organization-{organization.pk}",
                "metadata": metadata,
                "setup_intent_data": {"metadata": metadata},
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            options={"idempotency_key": f"organization-{organization.pk}-setup-{form_key}"},
        )
    except stripe.StripeError as error:
        raise StripeUnavailable(
            _("The payment page could not be opened. Please try again in a moment.")
        ) from error
    audit_record(
        organization=organization,
        actor=actor,
        verb="payment_method.setup_started",
        data={"session": session["id"]},
        ip_address=ip_address,
    )
    return session["url"]


def _customer_for(organization: Organization, client: stripe.StripeClient) -> str:
    settings_row = credit_settings(organization)
    if settings_row.stripe_customer_id:
        return settings_row.stripe_customer_id
    try:
        customer = client.v1.customers.create(
            params={
                "name": settings_row.billing_name or organization.name,
                "metadata": {"organization_id": str(organization.pk)},
            },
            options={"idempotency_key": f"organization-{organization.pk}-customer"},
        )
    except stripe.StripeError as error:
        raise StripeUnavailable(
            _("The payment page could not be opened. Please try again in a moment.")
        ) from error
    with transaction.atomic():
        locked = (
            CreditSettings.objects.for_org(organization).select_for_update().get(pk=settings_row.pk)
        )
        if not locked.stripe_customer_id:
            locked.stripe_customer_id = customer["id"]
            locked.save(update_fields=["stripe_customer_id"])
    return locked.stripe_customer_id


# --- Reads and the off-session charge --------------------------------------------------------


def payment_intent_off_session_create(
    *, purchase: Purchase, customer_id: str, payment_method_id: str
) -> dict:
    """Charge the saved payment method for an automatic recharge. Raises stripe.StripeError
    (CardError for a decline or a needed authentication) as Stripe reports it."""
    organization = purchase.organization
    metadata = {
        "purchase_id": str(purchase.pk),
        "organization_id": str(organization.pk),
        "kind": "auto_recharge",
    }
    intent = stripe_client().v1.payment_intents.create(
        params={
            "amount": to_minor_units(purchase.amount),
            "currency": str(purchase.amount.currency).lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "off_session": True,
            "confirm": True,
            "description": _("Automatic recharge %(number)s") % {"number": purchase.number},
            "metadata": metadata,
        },
        options={"idempotency_key": f"purchase-{purchase.pk}-intent"},
    )
    return {"id": intent["id"], "status": intent["status"]}


def payment_intent_retrieve(payment_intent_id: str) -> dict:
    """A PaymentIntent as Stripe sees it now (a GET: no idempotency key needed)."""
    return stripe_client().v1.payment_intents.retrieve(payment_intent_id).to_dict()


def payment_intent_payment_method(payment_intent_id: str) -> str:
    intent = stripe_client().v1.payment_intents.retrieve(payment_intent_id).to_dict()
    return _id_of(intent.get("payment_method"))


def setup_intent_payment_method(setup_intent_id: str) -> str:
    intent = stripe_client().v1.setup_intents.retrieve(setup_intent_id).to_dict()
    return _id_of(intent.get("payment_method"))


def payment_method_label(payment_method_id: str) -> str:
    """A person's name for a payment method: "Visa •••• 4242", "PayPal (a@b.com)"."""
    method = stripe_client().v1.payment_methods.retrieve(payment_method_id).to_dict()
    return label_of_payment_method(method)


def label_of_payment_method(method: dict) -> str:
    kind = method.get("type") or ""
    if kind == "card" and method.get("card"):
        card = method["card"]
        brand = (card.get("display_brand") or card.get("brand") or "card").replace("_", " ")
        brand = brand.title() if brand.islower() else brand
        return f"{brand} •••• {card.get('last4') or '????'}"[:100]
    if kind == "paypal":
        email = (method.get("paypal") or {}).get("payer_email")
        return f"PayPal ({email})"[:100] if email else "PayPal"
    return kind.replace("_", " ").title()[:100] or "Payment method"


def _id_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get("id") or ""
