"""Tasks for purchases and Stripe; each takes ids and calls one service.

- `email_receipt(purchase_id)`: the receipt to the owners once a purchase is paid (queued by
  credit.services.purchases.purchase_credit after commit); the outbox key makes it once.
- `auto_recharge_charge(purchase_id)`: the off-session charge of an automatic recharge
  (queued by auto_recharge_start_if_needed after commit). Retried with backoff when Stripe
  cannot be reached; the PaymentIntent's idempotency key makes every retry the same charge.
"""

import stripe
from celery import shared_task
from celery.contrib.django.task import DjangoTask

from credit.services import auto_recharge, notifications

__all__ = ["auto_recharge_charge", "email_receipt"]

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
