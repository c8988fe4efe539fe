"""A renewal the company balance cannot pay: company auto-recharge first, else past due with the
managers emailed once, retried daily through the grace period, then suspended; a purchase
renews at once, and a suspended feature comes back; "renew only above X" counts as short."""

import datetime

import pytest
import time_machine
from djmoney.money import Money

from credit.models import Purchase
from credit.services.purchases import purchase_credit
from organizations.models import AuditEvent
from organizations.scoping import tenant_scope
from outbox.models import OutboundMessage
from subscriptions.models import FeatureSettings, Renewal, Subscription
from tests.credit.rules_support import balance_of, bought
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.credit.test_auto_recharge import configure
from tests.subscriptions.renewals_support import charges, fresh, local, renewals, subscribe, sweep

pytestmark = pytest.mark.django_db


def emails(subject_part: str) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(channel="email", subject__contains=subject_part).order_by(
            "pk"
        )
    )


def verbs(org) -> list[str]:
    with tenant_scope(org):
        return list(
            AuditEvent.objects.filter(verb__startswith="subscription.")
            .order_by("pk")
            .values_list("verb", flat=True)
        )


@pytest.fixture
def short(org, owner, admin):
    """A feature bought on January 10th (5.99 a month) that leaves 0.01 on the company
    balance."""
    bought(org, owner, "6")
    return subscribe(org, owner, local(org, "2027-01-10 10:00"), code="europe-400")


def test_short_then_past_due_then_grace_then_suspended_then_a_purchase_reactivates(
    org, owner, short, django_capture_on_commit_callbacks
):
    due = local(org, "2027-02-10 00:05")
    assert sweep(due) == 1
    subscription = fresh(short)
    assert subscription.status == Subscription.Status.PAST_DUE
    assert subscription.past_due_since == due
    assert subscription.period_end == local(org, "2027-02-10 00:00"), "the period waits"
    [renewal] = renewals(subscription)[1:]
    assert (renewal.status, renewal.attempts, renewal.transfer) == (Renewal.Status.DUE, 1, None)
    assert renewal.next_attempt_at == due + datetime.timedelta(days=1)
    # The owner and the admin, once each, in their language.
    past_due = emails("could not be renewed")
    assert len(past_due) == 2
    assert "Europe" in past_due[0].subject
    assert "/credit/buy/" in past_due[0].body

    # Not again before the day has passed; then daily, without another email.
    assert sweep(local(org, "2027-02-10 12:00")) == 0
    assert sweep(local(org, "2027-02-11 00:10")) == 1
    assert fresh(short).status == Subscription.Status.PAST_DUE
    assert renewals(short)[1].attempts == 2
    assert len(emails("could not be renewed")) == 2
    for day in range(12, 17):
        sweep(local(org, f"2027-02-{day} 00:10"))
    assert fresh(short).status == Subscription.Status.PAST_DUE

    # Seven days of grace (the default) end at 00:05 on the 17th.
    suspended_at = local(org, "2027-02-17 00:05")
    assert renewals(short)[1].next_attempt_at == suspended_at
    sweep(suspended_at)
    subscription = fresh(short)
    assert subscription.status == Subscription.Status.SUSPENDED
    assert subscription.suspended_at == suspended_at
    assert len(emails("is suspended")) == 2
    sweep(local(org, "2027-02-18 00:10"))
    assert len(emails("is suspended")) == 2
    assert charges(org)[1:] == []

    # Credit arrives (a bank transfer confirmed): renewed at once, the period that was due.
    with (
        time_machine.travel(local(org, "2027-02-18 09:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        bought(org, owner, 10)
    subscription = fresh(short)
    assert subscription.status == Subscription.Status.ACTIVE
    assert (subscription.past_due_since, subscription.suspended_at) == (None, None)
    assert subscription.period_start == local(org, "2027-02-10 00:00")
    assert subscription.period_end == local(org, "2027-03-10 00:00")
    [renewal] = renewals(subscription)[1:]
    assert renewal.status == Renewal.Status.PAID
    assert renewal.transfer is not None
    assert renewal.attempts == 10
    assert len(charges(org)) == 2
    assert balance_of(org) == Money("4.02", "EUR")
    assert verbs(org) == [
        "subscription.past_due",
        "subscription.suspended",
        "subscription.reactivated",
    ]


def test_a_purchase_during_grace_renews_at_once(
    org, owner, short, django_capture_on_commit_callbacks
):
    sweep(local(org, "2027-02-10 00:05"))
    assert fresh(short).status == Subscription.Status.PAST_DUE
    with (
        time_machine.travel(local(org, "2027-02-12 15:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        bought(org, owner, 10)
    subscription = fresh(short)
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.period_end == local(org, "2027-03-10 00:00")
    assert len(charges(org)) == 2
    # The retry planned for the next day finds nothing to do.
    assert sweep(local(org, "2027-02-13 00:10")) == 0


def test_a_suspended_feature_without_a_number_expires_after_the_hold(org, owner, short):
    FeatureSettings.objects.for_org(org).update(grace_days=2, number_hold_days=3)
    sweep(local(org, "2027-02-10 00:05"))
    sweep(local(org, "2027-02-12 00:05"))
    assert fresh(short).status == Subscription.Status.SUSPENDED
    sweep(local(org, "2027-02-13 00:10"))
    sweep(local(org, "2027-02-14 00:10"))
    assert fresh(short).status == Subscription.Status.SUSPENDED
    sweep(local(org, "2027-02-15 00:05"))
    subscription = fresh(short)
    assert subscription.status == Subscription.Status.EXPIRED
    assert renewals(subscription)[1].status == Renewal.Status.ABANDONED
    assert verbs(org)[-1] == "subscription.ended"
    assert sweep(local(org, "2027-03-15 00:05")) == 0


def test_renew_only_above_an_amount_counts_as_short(org, owner, admin):
    bought(org, owner, 10)
    subscription = subscribe(org, owner, local(org, "2027-01-10 10:00"))  # 7.01 left
    FeatureSettings.objects.for_org(org).update(renew_min_balance="4.50")
    sweep(local(org, "2027-02-10 00:05"))  # 7.01 - 2.99 = 4.02 would be below 4.50
    assert fresh(subscription).status == Subscription.Status.PAST_DUE
    assert balance_of(org) == Money("7.01", "EUR")
    FeatureSettings.objects.for_org(org).update(renew_min_balance="4.00")
    sweep(local(org, "2027-02-11 00:10"))
    subscription = fresh(subscription)
    assert subscription.status == Subscription.Status.ACTIVE
    assert balance_of(org) == Money("4.02", "EUR")


def test_with_company_auto_recharge_a_recharge_starts_and_its_credit_renews(
    org, owner, short, stripe_fake, django_capture_on_commit_callbacks
):
    configure(org, threshold=20, amount=100)
    due = local(org, "2027-02-10 00:05")
    sweep(due)
    subscription = fresh(short)
    assert subscription.status == Subscription.Status.ACTIVE, "not past due: a recharge comes"
    [recharge] = Purchase.objects.for_org(org).filter(method="auto_recharge")
    [renewal] = renewals(subscription)[1:]
    assert renewal.status == Renewal.Status.DUE
    assert renewal.next_attempt_at == due + datetime.timedelta(minutes=15)
    assert emails("could not be renewed") == []

    # Tried again soon: still waiting for the same recharge, none started twice.
    sweep(due + datetime.timedelta(minutes=16))
    assert Purchase.objects.for_org(org).filter(method="auto_recharge").count() == 1
    assert fresh(short).status == Subscription.Status.ACTIVE

    # Stripe's webhook credits it: the renewal goes through at once.
    with (
        time_machine.travel(due + datetime.timedelta(minutes=20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        purchase_credit(purchase=recharge)
    subscription = fresh(short)
    assert subscription.period_end == local(org, "2027-03-10 00:00")
    assert renewals(subscription)[1].status == Renewal.Status.PAID
    assert balance_of(org) == Money("94.02", "EUR")


def test_with_auto_recharge_that_cannot_start_it_goes_past_due(org, owner, short):
    # Switched on, but online payments are not set up on this server: no recharge can start.
    configure(org, threshold=20, amount=100)
    sweep(local(org, "2027-02-10 00:05"))
    assert fresh(short).status == Subscription.Status.PAST_DUE
    assert not Purchase.objects.for_org(org).filter(method="auto_recharge").exists()
    assert len(emails("could not be renewed")) == 2
