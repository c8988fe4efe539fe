"""Paid but never credited (issue 8, item 2): the currency is fixed at the first purchase, a
payment is compared with its purchase's own amount and currency, and a payment our rules still
refuse is shown to platform staff and emailed to them once, never dropped."""

import pytest
from django.db import InternalError, transaction
from django.test import Client
from djmoney.money import Money

from credit.models import Account, Purchase, StripeEvent, Transfer
from credit.services.ledger import system_account
from credit.services.purchases import purchase_bank_transfer_confirm, purchase_create
from credit.services.stripe_gateway import purchase_checkout_start
from organizations.models import AuditEvent, Organization
from organizations.services import organization_update
from outbox.models import OutboundMessage
from skypemgr.errors import ApplicationError
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.factories import PurchaseFactory, UserFactory

WEBHOOK = "/webhooks/stripe/"
PURCHASES = "/admin/credit/purchase/"
STAFF_ALERTS = ["payments@platform.example", "finance-ops@platform.example"]


@pytest.fixture
def staff(platform_staff) -> Client:
    return platform_staff


@pytest.fixture(autouse=True)
def _staff_alerts(settings):
    settings.STAFF_ALERT_EMAILS = STAFF_ALERTS


def card_checkout(org, owner, amount=100) -> Purchase:
    return purchase_checkout_start(
        organization=org,
        actor=owner,
        method="card",
        amount=amount,
        enable_auto_recharge=False,
        form_key="form-1",
        success_url=lambda purchase: "http://testserver/return/",
        cancel_url=lambda purchase: "http://testserver/buy/",
    ).purchase


def company(org) -> Money:
    return system_account(org, Account.Kind.ORGANIZATION).balance


def staff_alerts(purchase) -> list[str]:
    return sorted(
        OutboundMessage.objects.filter(key__startswith=f"credit:attention:{purchase.pk}:")
        .values_list("to", flat=True)
        .order_by("to")
    )


def switch_currency(org, owner, currency) -> None:
    """The owner changes the currency; the purchase (made without the services, as purchases
    were before the currency was fixed at the first one) stays in its own."""
    organization_update(
        organization=org,
        actor=owner,
        name=org.name,
        country=org.country.code,
        time_zone=org.time_zone,
        currency=currency,
    )
    org.refresh_from_db()


def settings_form(org, **changes) -> dict:
    return {
        "name": org.name,
        "country": org.country.code,
        "currency": org.currency,
        "time_zone": org.time_zone,
        "invitation_expiry_days": org.invitation_expiry_days,
        **changes,
    }


# --- The currency is fixed at the first purchase -----------------------------------------------


def test_the_first_purchase_fixes_the_currency(org, owner):
    assert Organization.objects.get(pk=org.pk).currency_locked_at is None

    purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)

    assert Organization.objects.get(pk=org.pk).currency_locked_at is not None
    with pytest.raises(ApplicationError, match="currency is fixed"):
        organization_update(
            organization=org,
            actor=owner,
            name=org.name,
            country="FR",
            time_zone=org.time_zone,
            currency="USD",
        )


def test_the_currency_changed_between_checkout_and_webhook_can_no_longer_happen(
    org, owner, login, client, stripe_fake
):
    """The old bug: a Checkout started in EUR, the owner switched to USD, the webhook found a
    currency that was not the organization's and credited nothing (answering 200)."""
    purchase = card_checkout(org, owner)

    page = login(owner).post(f"/o/{org.slug}/settings/", settings_form(org, currency="USD"))

    assert page.status_code == 200
    assert "The currency is fixed now that credit has been bought" in page.content.decode()
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    assert stripe_fake.post_to(client, WEBHOOK, event).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert company(org) == Money(100, "EUR")
    assert StripeEvent.objects.get().error == ""


def test_a_bank_transfer_started_fixes_the_currency_and_is_confirmed(org, owner, staff):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=120)
    Organization.objects.filter(pk=org.pk).update(name="Acme SA")

    with pytest.raises(ApplicationError, match="currency is fixed"):
        organization_update(
            organization=org,
            actor=owner,
            name="Acme",
            country="FR",
            time_zone="UTC",
            currency="GBP",
        )
    staff.post(
        PURCHASES,
        {"action": "confirm_bank_transfer", "_selected_action": [purchase.pk], "index": 0},
    )

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert company(org) == Money(120, "EUR")


def test_the_database_keeps_a_fixed_currency(org, owner):
    purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)

    with pytest.raises(InternalError, match="is fixed"), transaction.atomic():
        Organization.objects.filter(pk=org.pk).update(currency="USD")
    # A whole-row save from a copy read before the first purchase keeps it fixed.
    org.name = "Acme Renamed"
    org.save()
    assert Organization.objects.get(pk=org.pk).currency_locked_at is not None


def test_the_admin_shows_a_fixed_currency_read_only(org, owner, staff):
    change_page = f"/admin/organizations/organization/{org.pk}/change/"
    assert 'name="currency"' in staff.get(change_page).content.decode()

    purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)

    page = staff.get(change_page).content.decode()
    assert 'name="currency"' not in page
    assert "EUR" in page


def test_a_currency_changed_before_any_purchase_moves_the_credit_settings(org, owner, login):
    from credit.selectors.settings import credit_settings

    login(owner).post(f"/o/{org.slug}/settings/", settings_form(org, currency="CHF"))

    org.refresh_from_db()
    assert org.currency == "CHF"
    assert str(credit_settings(org).low_balance_warning.currency) == "CHF"
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)
    assert purchase.amount == Money(100, "CHF")


# --- A payment our rules refuse: shown to staff, emailed once ----------------------------------


def test_a_mismatched_amount_is_flagged_and_emailed_once(
    org, owner, client, stripe_fake, staff, django_capture_on_commit_callbacks
):
    purchase = card_checkout(org, owner)
    completed = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    completed["data"]["object"]["amount_total"] = 1
    intent = dict(stripe_fake.payment_intents[completed["data"]["object"]["payment_intent"]])
    intent.update(amount=1, amount_received=1)
    succeeded = stripe_fake.event("payment_intent.succeeded", intent)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            stripe_fake.post_to(client, WEBHOOK, event).status_code
            for event in (completed, completed, succeeded)
        ]

    assert statuses == [200, 200, 200]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    assert not Transfer.objects.for_org(org).exists()
    assert "€0.01" in purchase.attention
    assert "€100.00" in purchase.attention
    assert staff_alerts(purchase) == sorted(STAFF_ALERTS)
    message = OutboundMessage.objects.filter(key__startswith="credit:attention:").first()
    assert purchase.number in message.subject
    assert f"/admin/credit/purchase/{purchase.pk}/change/" in message.body
    events = StripeEvent.objects.order_by("received_at")
    assert all("not credited" in event.error for event in events)
    # One entry in the trail per refused event (the duplicate changed nothing).
    assert AuditEvent.objects.for_org(org).filter(verb="purchase.needs_attention").count() == 2
    flagged = staff.get(PURCHASES, {"attention": "yes"}).content.decode()
    assert purchase.number in flagged
    refused = staff.get("/admin/credit/stripeevent/", {"outcome": "refused"}).content.decode()
    assert completed["id"] in refused


def test_staff_users_are_alerted_when_no_address_is_set(org, owner, client, stripe_fake, settings):
    settings.STAFF_ALERT_EMAILS = []
    watcher = UserFactory(is_staff=True, email="watcher@platform.example")
    UserFactory(is_staff=False, email="customer@example.com")
    purchase = card_checkout(org, owner)
    completed = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    completed["data"]["object"]["currency"] = "usd"

    stripe_fake.post_to(client, WEBHOOK, completed)

    assert staff_alerts(purchase) == [watcher.email]


def test_a_purchase_in_another_currency_than_the_organization_is_flagged(org, owner, staff):
    """A purchase made before currencies were fixed at the first purchase, then the currency
    changed: its bank transfer cannot be credited; staff see why and are emailed."""
    purchase = PurchaseFactory(organization=org, created_by=owner, amount=Money(80, "EUR"))
    switch_currency(org, owner, "USD")

    response = staff.post(
        PURCHASES,
        {"action": "confirm_bank_transfer", "_selected_action": [purchase.pk], "index": 0},
        follow=True,
    )

    assert "not credited" in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    assert "USD" in purchase.attention
    assert staff_alerts(purchase) == sorted(STAFF_ALERTS)
    assert not Transfer.objects.for_org(org).exists()


def test_a_refund_in_another_currency_is_flagged(org, owner, client, stripe_fake):
    purchase = card_checkout(org, owner)
    stripe_fake.post_to(
        client, WEBHOOK, stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    )
    purchase.refresh_from_db()
    charge = stripe_fake.charge_of(purchase.stripe_payment_intent_id, refunded_minor=10000)
    charge["currency"] = "gbp"

    stripe_fake.post_to(client, WEBHOOK, stripe_fake.event("charge.refunded", charge))

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert "GBP" in purchase.attention
    assert company(org) == Money(100, "EUR")


def test_staff_mark_a_flagged_purchase_handled(org, owner, client, stripe_fake, staff):
    purchase = card_checkout(org, owner)
    completed = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    completed["data"]["object"]["amount_total"] = 5000
    stripe_fake.post_to(client, WEBHOOK, completed)

    staff.post(
        PURCHASES,
        {"action": "attention_handled", "_selected_action": [purchase.pk], "index": 0},
    )

    purchase.refresh_from_db()
    assert purchase.attention == ""
    assert purchase.number not in staff.get(PURCHASES, {"attention": "yes"}).content.decode()
    handled = AuditEvent.objects.for_org(org).get(verb="purchase.attention_handled")
    assert handled.actor_label.startswith("Platform staff")


def test_the_direct_bank_transfer_service_flags_too(org, owner):
    purchase = PurchaseFactory(organization=org, created_by=owner, amount=Money(80, "EUR"))
    switch_currency(org, owner, "GBP")

    with pytest.raises(ApplicationError, match="not credited"):
        purchase_bank_transfer_confirm(purchase=purchase, staff_label="Platform staff (test)")

    purchase.refresh_from_db()
    assert purchase.attention
    assert purchase.attention_at is not None
