"""Automatic recharges stalled in flight: a charge task or a webhook that never came would
block every later recharge (one at a time). The beat sweep settles them from what Stripe says."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from djmoney.money import Money

from credit.models import Purchase, Transfer
from credit.selectors.settings import credit_settings
from credit.services import auto_recharge as service
from credit.tasks.purchases import reconcile_auto_recharges
from outbox.models import OutboundMessage
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.credit.test_auto_recharge import URL, company, configure, fund, spend


@pytest.fixture
def low(org, owner, stripe_fake):
    """Auto-recharge set up (below 20, recharge 100) and the company balance at 10."""
    configure(org)
    fund(org, 100)
    spend(org, 90, "spend-1")
    return org


def later(minutes: int):
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=False)


def credited(org, purchase) -> int:
    return Transfer.objects.for_org(org).filter(idempotency_key=f"purchase:{purchase.pk}").count()


def charged(low, django_capture_on_commit_callbacks) -> Purchase:
    """A recharge sent to Stripe (which took the money) whose webhook never arrived."""
    with django_capture_on_commit_callbacks(execute=True):
        purchase = service.auto_recharge_start_if_needed(organization=low)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PROCESSING
    return purchase


def test_a_recharge_whose_task_was_lost_is_charged_by_the_sweep(low, stripe_fake):
    # The charge task never ran (its message was lost): the purchase waits, blocking others.
    purchase = service.auto_recharge_start_if_needed(organization=low)
    assert service.auto_recharge_start_if_needed(organization=low) is None

    with later(10):
        assert reconcile_auto_recharges() == 0
    assert stripe_fake.posts == []

    with later(31):
        assert reconcile_auto_recharges() == 1
    [request] = stripe_fake.posts
    assert request["idempotency_key"] == f"purchase-{purchase.pk}-intent"
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PROCESSING
    assert company(low) == Money(10, "EUR")

    # Its webhook is lost too: the next sweep reads the charge at Stripe, without charging again.
    with later(46):
        assert reconcile_auto_recharges() == 1
    assert len(stripe_fake.posts) == 1
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert company(low) == Money(110, "EUR")


def test_a_recharge_whose_webhook_was_lost_is_credited_once(
    low, client, stripe_fake, django_capture_on_commit_callbacks
):
    purchase = charged(low, django_capture_on_commit_callbacks)

    with later(31):
        reconcile_auto_recharges()
        reconcile_auto_recharges()
    # The webhook arrives after all: nothing more.
    intent = stripe_fake.payment_intents[purchase.stripe_payment_intent_id]
    stripe_fake.post_to(client, URL, stripe_fake.event("payment_intent.succeeded", intent))

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert credited(low, purchase) == 1
    assert company(low) == Money(110, "EUR")
    # The next recharge may start again.
    spend(low, 100, "spend-2")
    assert service.auto_recharge_start_if_needed(organization=low) is not None


def test_a_charge_refused_later_turns_auto_recharge_off(
    low, owner, stripe_fake, django_capture_on_commit_callbacks
):
    purchase = charged(low, django_capture_on_commit_callbacks)
    stripe_fake.payment_intents[purchase.stripe_payment_intent_id].update(
        status="requires_payment_method",
        last_payment_error={"type": "card_error", "code": "card_declined", "message": "No."},
    )

    with later(31):
        reconcile_auto_recharges()

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.FAILED
    assert "card_declined" in purchase.failure_reason
    assert credit_settings(low).auto_recharge_enabled is False
    [email] = OutboundMessage.objects.filter(key__startswith="credit:auto-recharge-disabled:")
    assert email.to == owner.user.email
    assert credited(low, purchase) == 0


def test_a_charge_still_processing_at_stripe_keeps_waiting(
    low, stripe_fake, django_capture_on_commit_callbacks
):
    purchase = charged(low, django_capture_on_commit_callbacks)
    stripe_fake.payment_intents[purchase.stripe_payment_intent_id]["status"] = "processing"

    with later(31):
        reconcile_auto_recharges()

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PROCESSING
    assert credit_settings(low).auto_recharge_enabled is True


def test_an_amount_that_differs_is_not_credited(
    low, stripe_fake, django_capture_on_commit_callbacks
):
    purchase = charged(low, django_capture_on_commit_callbacks)
    stripe_fake.payment_intents[purchase.stripe_payment_intent_id]["amount_received"] = 100

    with later(31):
        reconcile_auto_recharges()

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PROCESSING
    assert credited(low, purchase) == 0


def test_a_recharge_never_sent_for_half_a_day_fails(low, stripe_fake):
    purchase = service.auto_recharge_start_if_needed(organization=low)

    with later(13 * 60):
        reconcile_auto_recharges()

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.FAILED
    assert stripe_fake.posts == []
    # Nothing says the card is bad: auto-recharge stays on, and the next drop tries again.
    assert credit_settings(low).auto_recharge_enabled is True
    assert service.auto_recharge_start_if_needed(organization=low) is not None


def test_stripe_out_of_reach_leaves_it_for_the_next_sweep(
    low, stripe_fake, django_capture_on_commit_callbacks
):
    purchase = charged(low, django_capture_on_commit_callbacks)
    stripe_fake.close()

    with later(31):
        assert reconcile_auto_recharges() == 1

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PROCESSING
