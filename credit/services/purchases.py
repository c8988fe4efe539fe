"""Purchases of credit: creating them, crediting them exactly once, failing and refunding them.

Owns Purchase rows and their transfers. Creating an organization's first purchase fixes its
currency (under the organization row's lock), so that every payment is credited in the
currency it was asked in. A purchase is credited by the transfer keyed `purchase:<id>` (so a
webhook delivered three times credits once), after which anything the company owes (the
receivable, from usage it could not pay) is settled first. A refund is a transfer that
reverses the purchase's; when the credit was already spent, what is missing becomes owed.
A payment our rules refuse (PaymentNotCredited) is left to platform staff
(credit.services.attention), never dropped.
Locks (the ledger's order): the organization row (creation only), then the purchase row, then
the accounts (in id order, by the ledger).
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.extensions import company_credited_after_commit
from credit.models import Account, Purchase, Transfer
from credit.selectors.balances import may_buy
from credit.services.attention import PaymentNotCredited, purchase_attention_record
from credit.services.ledger import (
    Movement,
    accounts_lock,
    amount_of,
    currency_guard,
    system_account,
    transfers_post,
)
from credit.services.notifications import receipt_email_owners
from organizations.audit import audit_record
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Currencies whose unit is small: limits are scaled so that they mean about the same.
LIMIT_SCALE = {"JPY": 100}


def purchase_limits(organization: Organization) -> tuple[Money, Money]:
    """The smallest and the largest single purchase; larger once platform staff verified."""
    scale = LIMIT_SCALE.get(organization.currency, 1)
    limits = settings.PURCHASE_LIMITS
    largest = limits["verified"] if organization.verified else limits["unverified"]
    return (
        Money(Decimal(limits["minimum"]) * scale, organization.currency),
        Money(Decimal(largest) * scale, organization.currency),
    )


def _next_number(organization: Organization) -> str:
    year = timezone.now().year
    prefix = f"{year}-"
    count = Purchase.objects.for_org(organization).filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:05d}"


def _new_reference() -> str:
    return "SM-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def purchase_create(
    *,
    organization: Organization,
    actor: Member | None,
    method: str,
    amount,
    save_payment_method: bool = False,
    form_key: str = "",
    ip_address: str | None = None,
) -> Purchase:
    """Record a purchase waiting for payment, within the organization's purchase limits.

    Locks the organization row, to number purchases in order and to fix the currency at the
    first purchase (refused when the currency changed since `organization` was read). `actor`
    None is the system (automatic recharge). The payment itself (Stripe, bank) is the
    caller's next step.
    """
    if method not in Purchase.Method.values:
        raise ApplicationError(_("Choose a payment method."), field="method")
    if actor is not None and not may_buy(organization=organization, member=actor):
        raise ApplicationError(
            _("Only owners, and finance members they allow, buy credit."), code="denied"
        )
    money = amount_of(amount, organization.currency)
    smallest, largest = purchase_limits(organization)
    if money < smallest or money > largest:
        raise ApplicationError(
            _("Buy between %(smallest)s and %(largest)s at a time.")
            % {"smallest": smallest, "largest": largest},
            field="amount",
            code="limit",
        )
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        currency_guard(organization)
        purchase = Purchase.objects.create(
            organization=organization,
            number=_next_number(organization),
            method=method,
            amount=money,
            refunded=Money(0, organization.currency),
            form_key=form_key,
            created_by=actor,
            save_payment_method=save_payment_method and method != Purchase.Method.BANK_TRANSFER,
            reference=_new_reference() if method == Purchase.Method.BANK_TRANSFER else "",
        )
        audit_record(
            organization=organization,
            actor=actor,
            verb="purchase.started",
            target=purchase,
            data={"method": method, "amount": str(money.amount)},
            ip_address=ip_address,
        )
    return purchase


def purchase_credit(
    *, purchase: Purchase, payment_intent_id: str = "", actor: Member | None = None
) -> Purchase:
    """Mark the purchase paid and credit the company balance, exactly once.

    Locks the purchase row; a second call (a duplicated webhook, a second confirmation) finds
    it paid and changes nothing. Then settles what the company owes, from the new credit, and
    queues the receipt to the owners. A canceled purchase, or one in another currency than
    the organization's (made before currencies were fixed at the first purchase), is not
    credited: PaymentNotCredited, for the caller to record for platform staff.
    """
    organization = purchase.organization
    with transaction.atomic():
        purchase = Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
        if purchase.status in (Purchase.Status.PAID, Purchase.Status.REFUNDED):
            return purchase
        if purchase.status == Purchase.Status.CANCELED:
            raise PaymentNotCredited(
                _("Purchase %(number)s was canceled before it was paid: not credited.")
                % {"number": purchase.number},
                purchase=purchase,
                problem="canceled",
            )
        if str(purchase.amount.currency) != organization.currency:
            raise PaymentNotCredited(
                _(
                    "Purchase %(number)s is in %(purchase_currency)s but the organization now "
                    "counts in %(currency)s: not credited."
                )
                % {
                    "number": purchase.number,
                    "purchase_currency": purchase.amount.currency,
                    "currency": organization.currency,
                },
                purchase=purchase,
                problem="currency",
            )
        payments = system_account(organization, Account.Kind.PAYMENTS)
        company = system_account(organization, Account.Kind.ORGANIZATION)
        # All three accounts at once, in id order: the settlement below locks the receivable
        # too, and taking it after the other two could deadlock with a refund or usage.
        receivable = system_account(organization, Account.Kind.RECEIVABLE)
        accounts_lock(organization, [payments, company, receivable])
        transfers_post(
            organization=organization,
            actor=actor,
            movements=[
                Movement(
                    source=payments,
                    destination=company,
                    amount=purchase.amount,
                    kind=Transfer.Kind.PURCHASE,
                    idempotency_key=f"purchase:{purchase.pk}",
                    memo=f"{purchase.get_method_display()} {purchase.number}",
                )
            ],
        )
        _settle_receivable(organization, purchase, company)
        purchase.status = Purchase.Status.PAID
        purchase.paid_at = timezone.now()
        purchase.failure_reason = ""
        if payment_intent_id:
            purchase.stripe_payment_intent_id = payment_intent_id
        purchase.save()
        audit_record(
            organization=organization,
            actor=actor,
            verb="purchase.paid",
            target=purchase,
            data={"amount": str(purchase.amount.amount), "method": purchase.method},
        )
        receipt_email_owners(organization=organization, purchase_id=purchase.pk)
        # Features waiting for credit (past due renewals) are tried at once.
        company_credited_after_commit(organization.pk)
    return purchase


def _settle_receivable(organization: Organization, purchase: Purchase, company: Account) -> None:
    receivable = system_account(organization, Account.Kind.RECEIVABLE)
    locked = accounts_lock(organization, [company, receivable])
    company, receivable = locked[company.pk], locked[receivable.pk]
    owed = -receivable.balance.amount
    if owed <= 0:
        return
    settle = min(owed, company.balance.amount)
    if settle <= 0:
        return
    transfers_post(
        organization=organization,
        actor=None,
        movements=[
            Movement(
                source=company,
                destination=receivable,
                amount=Money(settle, organization.currency),
                kind=Transfer.Kind.SETTLEMENT,
                idempotency_key=f"purchase:{purchase.pk}:settlement",
                memo=purchase.number,
            )
        ],
    )


def purchase_fail(*, purchase: Purchase, reason: str) -> Purchase:
    """The payment failed or was abandoned: nothing is credited. A paid purchase stays paid."""
    organization = purchase.organization
    with transaction.atomic():
        purchase = Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
        if purchase.status not in Purchase.IN_FLIGHT:
            return purchase
        purchase.status = Purchase.Status.FAILED
        purchase.failure_reason = reason[:500]
        purchase.save(update_fields=["status", "failure_reason"])
        audit_record(
            organization=organization,
            actor=None,
            verb="purchase.failed",
            target=purchase,
            data={"reason": reason[:500]},
        )
    return purchase


def purchase_processing(*, purchase: Purchase) -> Purchase:
    """Paid by a method that confirms later (some PayPal and bank debits): still waiting."""
    organization = purchase.organization
    with transaction.atomic():
        purchase = Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
        if purchase.status == Purchase.Status.PENDING:
            purchase.status = Purchase.Status.PROCESSING
            purchase.save(update_fields=["status"])
    return purchase


def purchase_refund(*, purchase: Purchase, amount, refund_key: str) -> Purchase:
    """Reverse (part of) a paid purchase: the company balance gives the money back.

    What the company balance no longer holds (the credit was allocated or spent) becomes owed
    (the receivable), settled by the next purchase. Both transfers reverse the purchase's
    (`reverses`). `refund_key` identifies the refund (the provider's refund id), so a refund
    told twice reverses once. A refund told before the payment (webhooks come in any order)
    means the payment succeeded: it is credited first.
    """
    organization = purchase.organization
    if purchase.status in Purchase.IN_FLIGHT:
        purchase = purchase_credit(purchase=purchase)
    with transaction.atomic():
        purchase = Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
        if purchase.status not in (Purchase.Status.PAID, Purchase.Status.REFUNDED):
            return purchase
        money = amount_of(amount, organization.currency)
        refundable = purchase.amount - purchase.refunded
        key = f"purchase:{purchase.pk}:refund:{refund_key}"
        # Exactly these keys: a prefix would take refund "re_1" for a repeat of "re_12".
        keys = [f"{key}:company", f"{key}:owed"]
        if Transfer.objects.for_org(organization).filter(idempotency_key__in=keys).exists():
            return purchase
        money = min(money, refundable)
        if money.amount <= 0:
            return purchase
        accounts = [
            system_account(organization, kind)
            for kind in (Account.Kind.ORGANIZATION, Account.Kind.PAYMENTS, Account.Kind.RECEIVABLE)
        ]
        locked = accounts_lock(organization, accounts)
        company, payments, receivable = (locked[account.pk] for account in accounts)
        paid = Transfer.objects.for_org(organization).get(idempotency_key=f"purchase:{purchase.pk}")
        from_company = min(money, company.balance)
        movements = []
        if from_company.amount > 0:
            movements.append(
                Movement(company, payments, from_company, Transfer.Kind.REFUND, f"{key}:company",
                         purchase.number, reverses=paid)
            )  # fmt: skip
        rest = money - from_company
        if rest.amount > 0:
            movements.append(
                Movement(receivable, payments, rest, Transfer.Kind.REFUND, f"{key}:owed",
                         purchase.number, reverses=paid)
            )  # fmt: skip
        transfers_post(organization=organization, actor=None, movements=movements)
        purchase.refunded = purchase.refunded + money
        if purchase.refunded >= purchase.amount:
            purchase.status = Purchase.Status.REFUNDED
        purchase.save(update_fields=["refunded", "status"])
        audit_record(
            organization=organization,
            actor=None,
            verb="purchase.refunded",
            target=purchase,
            data={"amount": str(money.amount), "owed": str(rest.amount)},
        )
    return purchase


def purchase_payment_started(
    *,
    purchase: Purchase,
    checkout_session_id: str = "",
    payment_intent_id: str = "",
    processing: bool = False,
) -> Purchase:
    """Record the Stripe objects a payment was started with (blank ones are left alone);
    `processing` moves a pending purchase to processing. Credits nothing. Locks the purchase.
    """
    organization = purchase.organization
    with transaction.atomic():
        purchase = Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
        changed = []
        if checkout_session_id and not purchase.stripe_checkout_session_id:
            purchase.stripe_checkout_session_id = checkout_session_id
            changed.append("stripe_checkout_session_id")
        if payment_intent_id and not purchase.stripe_payment_intent_id:
            purchase.stripe_payment_intent_id = payment_intent_id
            changed.append("stripe_payment_intent_id")
        if processing and purchase.status == Purchase.Status.PENDING:
            purchase.status = Purchase.Status.PROCESSING
            changed.append("status")
        if changed:
            purchase.save(update_fields=changed)
    return purchase


def purchase_bank_transfer_confirm(*, purchase: Purchase, staff_label: str) -> bool:
    """Platform staff saw the bank transfer arrive: credit the purchase, exactly once.

    Locks the purchase row, then `purchase_credit` (which emails the receipt to the owners).
    Returns False, changing nothing, for a purchase already paid or not a waiting bank
    transfer (a second confirmation, a click on the wrong row). A transfer our rules refuse
    to credit (see `purchase_credit`) is recorded for platform staff and raises
    PaymentNotCredited.
    """
    organization = purchase.organization
    try:
        with transaction.atomic():
            purchase = (
                Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
            )
            if purchase.method != Purchase.Method.BANK_TRANSFER:
                return False
            if purchase.status not in (*Purchase.IN_FLIGHT, Purchase.Status.FAILED):
                return False
            purchase_credit(purchase=purchase)
            audit_record(
                organization=organization,
                actor=None,
                actor_label=staff_label[:200],
                verb="purchase.bank_transfer_confirmed",
                target=purchase,
                data={"amount": str(purchase.amount.amount), "reference": purchase.reference},
            )
    except PaymentNotCredited as refused:
        purchase_attention_record(
            purchase=refused.purchase, problem=refused.problem, reason=refused.message
        )
        raise
    return True
