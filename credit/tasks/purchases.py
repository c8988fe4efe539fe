"""Tasks for purchases and Stripe; each takes ids and calls one service.

- `email_receipt(purchase_id)`: the receipt to the owners once a purchase is paid (queued by
  credit.services.purchases.purchase_credit after commit); the outbox key makes it once.
- `auto_recharge_charge(purchase_id)`: the off-session charge of an automatic recharge
  (queued by auto_recharge_start_if_needed after commit). Retried with backoff when Stripe
  cannot be reached; the PaymentIntent's idempotency key makes every retry the same charge.
- `reconcile_auto_recharges()` (beat) and `reconcile_auto_recharge(purchase_id)`: automatic
  recharges stalled in flight (a lost task or webhook) are settled from what Stripe says.
"""

import logging

import stripe
from celery import shared_task
from celery.contrib.django.task import DjangoTask

from credit.services import auto_recharge, notifications

__all__ = [
    "auto_recharge_charge",
    "email_receipt",
    "reconcile_auto_recharge",
    "reconcile_auto_recharges",
]

logger = logging.getLogger(__name__)

# Errors that may pass: Stripe unreachable, overloaded or failing on its side.
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@shared_task(name="credit.email_receipt", acks_late=True)
def email_receipt(purchase_id: int) -> None:
    notifications.receipt_email_owners(purchase_id=purchase_id)


class AutoRechargeChargeTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        purchase_id = args[0] if args else kwargs.get("purchase_id")
        auto_recharge.auto_recharge_give_up(
            purchase_id=purchase_id, reason=f"The payment provider could not be reached: {exc}"
        )


@shared_task(
    name="credit.auto_recharge_charge",
    base=AutoRechargeChargeTask,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=6,
)
def auto_recharge_charge(purchase_id: int) -> None:
    auto_recharge.auto_recharge_charge(purchase_id=purchase_id)


@shared_task(name="credit.reconcile_auto_recharges")
def reconcile_auto_recharges() -> int:
    """Beat, every 15 minutes: each automatic recharge stalled in flight, in a task of its own."""
    stalled = auto_recharge.auto_recharges_stalled()
    for purchase_id in stalled:
        reconcile_auto_recharge.delay(purchase_id)
    return len(stalled)


@shared_task(name="credit.reconcile_auto_recharge", acks_late=True)
def reconcile_auto_recharge(purchase_id: int) -> None:
    try:
        auto_recharge.auto_recharge_reconcile(purchase_id=purchase_id)
    except TRANSIENT as error:
        # Still stalled: the next sweep asks again.
        logger.warning("Auto-recharge %s not reconciled: %s", purchase_id, error)
