"""Tasks for purchases and Stripe; each takes the organization's id and the purchase's, reloads
the purchase through the organization (`for_org`), and calls one service.

- `email_receipt(organization_id, purchase_id)`: the receipt to the owners. Purchases queue it
  in the payment's own transaction now; the task stays for messages already in a queue.
- `auto_recharge_charge(organization_id, purchase_id)`: the off-session charge of an automatic
  recharge (sent by auto_recharge_start_if_needed after commit). Retried with backoff when
  Stripe cannot be reached; the PaymentIntent's idempotency key makes every retry the same
  charge. If it never reached the broker, the stalled-recharge sweep below charges it.
- `reconcile_auto_recharges()` (beat) and `reconcile_auto_recharge(organization_id,
  purchase_id)`: automatic recharges stalled in flight (a lost task or webhook) are settled
  from what Stripe says.

Until the next release each task also accepts the former call with the purchase's id alone
(tasks queued before the deploy): the purchase's organization is then read from its row.
"""

import logging

import stripe
from celery import shared_task
from celery.contrib.django.task import DjangoTask

from credit.models import Purchase
from credit.services import auto_recharge, notifications
from organizations.models import Organization
from organizations.scoping import all_tenants, tenant_scope

__all__ = [
    "auto_recharge_charge",
    "email_receipt",
    "reconcile_auto_recharge",
    "reconcile_auto_recharges",
]

logger = logging.getLogger(__name__)

# Errors that may pass: Stripe unreachable, overloaded or failing on its side.
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def _ids(first: int, purchase_id: int | None) -> tuple[int | None, int]:
    """(organization id, purchase id), also from the former call with the purchase id alone."""
    if purchase_id is not None:
        return first, purchase_id
    with all_tenants("a task queued before the deploy names its purchase by id alone"):
        organization_id = (
            Purchase.objects.filter(pk=first).values_list("organization_id", flat=True).first()
        )
    return organization_id, first


def _organization(organization_id: int | None) -> Organization | None:
    if organization_id is None:
        return None
    return Organization.objects.filter(pk=organization_id).first()


@shared_task(name="credit.email_receipt", acks_late=True)
def email_receipt(organization_id: int, purchase_id: int | None = None) -> None:
    organization_id, purchase_id = _ids(organization_id, purchase_id)
    organization = _organization(organization_id)
    if organization is None:
        return
    with tenant_scope(organization):
        notifications.receipt_email_owners(organization=organization, purchase_id=purchase_id)


class AutoRechargeChargeTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        organization_id, purchase_id = _ids(
            args[0] if args else kwargs.get("organization_id"),
            args[1] if len(args) > 1 else kwargs.get("purchase_id"),
        )
        organization = _organization(organization_id)
        if organization is None:
            return
        with tenant_scope(organization):
            auto_recharge.auto_recharge_give_up(
                organization=organization,
                purchase_id=purchase_id,
                reason=f"The payment provider could not be reached: {exc}",
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
def auto_recharge_charge(organization_id: int, purchase_id: int | None = None) -> None:
    organization_id, purchase_id = _ids(organization_id, purchase_id)
    organization = _organization(organization_id)
    if organization is None:
        return
    with tenant_scope(organization):
        auto_recharge.auto_recharge_charge(organization=organization, purchase_id=purchase_id)


@shared_task(name="credit.reconcile_auto_recharges")
def reconcile_auto_recharges() -> int:
    """Beat, every 15 minutes: each automatic recharge stalled in flight, in a task of its own."""
    stalled = auto_recharge.auto_recharges_stalled()
    for organization_id, purchase_id in stalled:
        reconcile_auto_recharge.delay(organization_id, purchase_id)
    return len(stalled)


@shared_task(name="credit.reconcile_auto_recharge", acks_late=True)
def reconcile_auto_recharge(organization_id: int, purchase_id: int | None = None) -> None:
    organization_id, purchase_id = _ids(organization_id, purchase_id)
    organization = _organization(organization_id)
    if organization is None:
        return
    try:
        with tenant_scope(organization):
            auto_recharge.auto_recharge_reconcile(
                organization=organization, purchase_id=purchase_id
            )
    except TRANSIENT as error:
        # Still stalled: the next sweep asks again.
        logger.warning("Auto-recharge %s not reconciled: %s", purchase_id, error)
