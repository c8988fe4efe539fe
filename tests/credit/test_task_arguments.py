"""Tasks name the organization and reload their purchase through it (issue 8, item 22): an id
of another organization's purchase finds nothing; the former call with the purchase's id alone,
still in queues after a deploy, keeps working for one release."""

import pytest
from djmoney.money import Money

from credit.models import Purchase
from credit.selectors.settings import credit_settings
from credit.tasks.purchases import auto_recharge_charge, email_receipt, reconcile_auto_recharge
from outbox.models import OutboundMessage
from tests.credit.rules_support import bought
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.factories import MemberFactory


def receipts_of(purchase) -> int:
    return OutboundMessage.objects.filter(key__startswith=f"credit:receipt:{purchase.pk}:").count()


@pytest.fixture
def paid(org, owner):
    purchase = bought(org, owner, 100)
    # The payment queued its receipt; start again from none, as a task would.
    OutboundMessage.objects.filter(key__startswith=f"credit:receipt:{purchase.pk}:").delete()
    return purchase


def test_the_receipt_task_finds_the_purchase_through_its_organization(org, other_org, paid):
    MemberFactory(organization=other_org, role="owner")

    email_receipt.delay(other_org.pk, paid.pk)
    assert receipts_of(paid) == 0

    email_receipt.delay(org.pk, paid.pk)
    assert receipts_of(paid) == 1


def test_the_former_receipt_call_still_works(paid):
    email_receipt.delay(paid.pk)

    assert receipts_of(paid) == 1


@pytest.fixture
def recharge(org, stripe_fake) -> Purchase:
    row = credit_settings(org)
    row.stripe_customer_id, row.stripe_payment_method_id = "cus_saved", "pm_saved"
    row.save()
    return Purchase.objects.create(
        organization=org,
        number="2026-90001",
        method=Purchase.Method.AUTO_RECHARGE,
        amount=Money(100, "EUR"),
        refunded=Money(0, "EUR"),
    )


def test_the_charge_task_finds_the_recharge_through_its_organization(
    org, other_org, recharge, stripe_fake
):
    auto_recharge_charge.delay(other_org.pk, recharge.pk)
    reconcile_auto_recharge.delay(other_org.pk, recharge.pk)
    assert stripe_fake.posts == []

    auto_recharge_charge.delay(org.pk, recharge.pk)
    recharge.refresh_from_db()
    assert recharge.stripe_payment_intent_id.startswith("pi_")


def test_the_former_charge_call_still_works(recharge, stripe_fake):
    auto_recharge_charge.delay(recharge.pk)

    recharge.refresh_from_db()
    assert recharge.stripe_payment_intent_id.startswith("pi_")
