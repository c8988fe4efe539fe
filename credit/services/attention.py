"""Payments that our rules refuse to credit: recorded for platform staff, never dropped.

Owns `Purchase.attention` and `Purchase.attention_at`. A payment that arrived but cannot be
credited (an amount or a currency that is not the purchase's, a payment for a canceled
purchase, a refund in another currency...) is written on its purchase, shown in the Django
admin under "Needs attention", and emailed to platform staff once per purchase and problem
(the outbox key), however many times Stripe tells us. Nothing here moves money: staff look at
the payment at Stripe or at the bank, then refund it or correct the books, and mark it handled.

Locks: the purchase row.
"""

import hashlib

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from credit.models import Purchase
from credit.services.notifications import email_staff
from organizations.audit import audit_record
from skypemgr.errors import ApplicationError


class PaymentNotCredited(ApplicationError):
    """A payment for `purchase` that our rules refuse to credit; `problem` is a short code
    ("amount", "currency", "canceled", "refund_currency"...) naming the kind of refusal."""

    code = "payment_not_credited"

    def __init__(self, message: str, *, purchase: Purchase, problem: str):
        super().__init__(message)
        self.purchase = purchase
        self.problem = problem


def purchase_attention_record(*, purchase: Purchase, problem: str, reason: str) -> Purchase:
    """Write on the purchase why a payment for it was not credited, and email platform staff
    once for this purchase and problem. Locks the purchase row. Call it after the refused
    work was rolled back (outside its savepoint), so that the record stays."""
    organization = purchase.organization
    reason = reason[:1000]
    with transaction.atomic():
        purchase = Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
        if purchase.attention != reason:
            purchase.attention = reason
            purchase.attention_at = timezone.now()
            purchase.save(update_fields=["attention", "attention_at"])
            audit_record(
                organization=organization,
                actor=None,
                verb="purchase.needs_attention",
                target=purchase,
                data={"problem": problem, "reason": reason},
            )
        email_staff(
            template="payment_attention",
            key=f"credit:attention:{purchase.pk}:{_short(problem)}",
            context={
                "purchase": purchase,
                "organization": organization,
                "reason": reason,
                "link": settings.SITE_URL
                + reverse("admin:credit_purchase_change", args=[purchase.pk]),
            },
        )
    return purchase


def purchase_attention_clear(*, purchase: Purchase, staff_label: str) -> bool:
    """Platform staff dealt with the payment: the purchase no longer needs attention. Locks
    the purchase row; False when it did not need any."""
    organization = purchase.organization
    with transaction.atomic():
        purchase = Purchase.objects.for_org(organization).select_for_update().get(pk=purchase.pk)
        if not purchase.attention:
            return False
        reason = purchase.attention
        purchase.attention = ""
        purchase.attention_at = None
        purchase.save(update_fields=["attention", "attention_at"])
        audit_record(
            organization=organization,
            actor=None,
            actor_label=staff_label[:200],
            verb="purchase.attention_handled",
            target=purchase,
            data={"reason": reason},
        )
    return True


def _short(problem: str) -> str:
    """The problem's code as an outbox key part (bounded, whatever the caller passed)."""
    if len(problem) <= 40:
        return problem
    return hashlib.sha256(problem.encode()).hexdigest()[:16]
