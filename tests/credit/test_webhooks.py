"""Stripe's webhook: signatures, each event once, any order, refunds, saved payment methods."""

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from credit.models import Account, Purchase, StripeEvent, Transfer
from credit.selectors.ledger import organization_balances
from credit.selectors.settings import credit_settings
from credit.services import purchases as purchase_services
from credit.services import webhooks
from credit.services.allocation import credit_allocate
from credit.services.ledger import system_account
from credit.services.stripe_gateway import purchase_checkout_start
from organizations.models import AuditEvent
from outbox.models import OutboundMessage
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.factories import MemberFactory

URL = "/webhooks/stripe/"


def start(org, owner, *, method="card", amount=100, auto_recharge=False, key="form-1"):
    return purchase_checkout_start(
        organization=org,
        actor=owner,
        method=method,
        amount=amount,
        enable_auto_recharge=auto_recharge,
        form_key=key,
        success_url=lambda purchase: "http://testserver/return/",
        cancel_url=lambda purchase: "http://testserver/buy/",
    ).purchase


def company(org) -> Money:
    return system_account(org, Account.Kind.ORGANIZATION).balance


def refreshed(purchase) -> Purchase:
    purchase.refresh_from_db()
    return purchase


def test_the_webhook_url_is_public_and_post_only(client):
    assert reverse("credit:stripe-webhook") == URL
    assert client.get(URL).status_code == 405


def test_a_completed_checkout_credits_the_purchase(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)

    response = stripe_fake.post_to(client, URL, event)

    assert response.status_code == 200
    purchase = refreshed(purchase)
    assert purchase.status == Purchase.Status.PAID
    assert purchase.stripe_payment_intent_id.startswith("pi_")
    assert company(org) == Money(100, "EUR")
    stored = StripeEvent.objects.get(event_id=event["id"])
    assert stored.type == "checkout.session.completed"
    assert stored.organization == org
    assert stored.processed_at is not None
    assert stored.error == ""


def test_the_same_event_three_times_in_a_row_credits_once(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)

    statuses = [stripe_fake.post_to(client, URL, event).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert StripeEvent.objects.count() == 1
    assert Transfer.objects.for_org(org).count() == 1
    assert company(org) == Money(100, "EUR")
    assert AuditEvent.objects.for_org(org).filter(verb="purchase.paid").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_event_three_times_at_once_credits_once(org, owner, stripe_fake):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    payload, headers = stripe_fake.signed(event)
    barrier = threading.Barrier(3)
    statuses, errors = [], []

    def deliver():
        try:
            barrier.wait()
            response = Client().post(
                URL,
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            )
            statuses.append(response.status_code)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert statuses == [200, 200, 200]
    assert StripeEvent.objects.count() == 1
    assert Transfer.objects.for_org(org).filter(kind="purchase").count() == 1
    assert company(org) == Money(100, "EUR")


@pytest.mark.django_db(transaction=True)
def test_different_events_of_one_payment_at_once_credit_once(org, owner, stripe_fake):
    purchase = start(org, owner)
    completed = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    intent = stripe_fake.payment_intents[completed["data"]["object"]["payment_intent"]]
    events = [completed, stripe_fake.event("payment_intent.succeeded", intent)] * 2
    barrier = threading.Barrier(len(events))
    statuses = []

    def deliver(event):
        try:
            barrier.wait()
            statuses.append(stripe_fake.post_to(Client(), URL, event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 4
    assert StripeEvent.objects.count() == 2
    assert Transfer.objects.for_org(org).filter(kind="purchase").count() == 1
    assert refreshed(purchase).status == Purchase.Status.PAID


# --- Refused requests ------------------------------------------------------------------------


def nothing_written(org, purchase):
    assert StripeEvent.objects.count() == 0
    assert refreshed(purchase).status == Purchase.Status.PENDING
    assert not Transfer.objects.for_org(org).exists()


def test_a_bad_signature_is_refused(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)

    assert stripe_fake.post_to(client, URL, event, secret="whsec_someone_else").status_code == 400
    nothing_written(org, purchase)


def test_a_tampered_body_is_refused(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    payload, headers = stripe_fake.signed(event)
    tampered = payload.replace('"amount_total": 10000', '"amount_total": 1')

    response = client.post(
        URL,
        data=tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
    )

    assert response.status_code == 400
    nothing_written(org, purchase)


@pytest.mark.parametrize("header", [None, "", "garbage", "t=abc,v1=def", "t=1"])
def test_a_missing_or_malformed_signature_is_refused(org, owner, client, stripe_fake, header):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    extra = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}

    response = client.post(URL, data=json.dumps(event), content_type="application/json", **extra)

    assert response.status_code == 400
    nothing_written(org, purchase)


def test_a_signature_older_than_five_minutes_is_refused(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)

    old = stripe_fake.post_to(client, URL, event, timestamp=int(time.time()) - 301)

    assert old.status_code == 400
    nothing_written(org, purchase)
    assert (
        stripe_fake.post_to(client, URL, event, timestamp=int(time.time()) - 200).status_code == 200
    )


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "{}",
        '{"id": "evt_1", "type": "x"}',
        '{"id": 5, "type": "x", "data": {"object": {}}}',
        '{"id": "evt_1", "type": "x", "data": {"object": "nope"}}',
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(db, client, stripe_fake, body):
    assert stripe_fake.post_to(client, URL, body).status_code == 400
    assert StripeEvent.objects.count() == 0


def test_without_a_webhook_secret_everything_is_refused(org, owner, client, stripe_fake, settings):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    settings.STRIPE_WEBHOOK_SECRET = ""

    assert stripe_fake.post_to(client, URL, event).status_code == 400
    nothing_written(org, purchase)


# --- Order and asynchronous payments ---------------------------------------------------------


def test_payment_intent_succeeded_first_then_the_checkout(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    completed = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    intent = stripe_fake.payment_intents[completed["data"]["object"]["payment_intent"]]

    assert (
        stripe_fake.post_to(
            client, URL, stripe_fake.event("payment_intent.succeeded", intent)
        ).status_code
        == 200
    )
    assert refreshed(purchase).status == Purchase.Status.PAID
    assert stripe_fake.post_to(client, URL, completed).status_code == 200

    assert Transfer.objects.for_org(org).count() == 1
    assert company(org) == Money(100, "EUR")
    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == 2


def test_an_asynchronous_payment_that_succeeds(org, owner, client, stripe_fake):
    purchase = start(org, owner, method="paypal")
    completed = stripe_fake.pay_session(
        purchase.stripe_checkout_session_id, payment_status="unpaid"
    )

    stripe_fake.post_to(client, URL, completed)
    assert refreshed(purchase).status == Purchase.Status.PROCESSING
    assert not Transfer.objects.for_org(org).exists()

    session = dict(completed["data"]["object"], payment_status="paid")
    succeeded = stripe_fake.event("checkout.session.async_payment_succeeded", session)
    stripe_fake.post_to(client, URL, succeeded)

    assert refreshed(purchase).status == Purchase.Status.PAID
    assert company(org) == Money(100, "EUR")


def test_an_asynchronous_payment_that_fails_never_credits(org, owner, client, stripe_fake):
    purchase = start(org, owner, method="paypal")
    completed = stripe_fake.pay_session(
        purchase.stripe_checkout_session_id, payment_status="unpaid"
    )
    failed = stripe_fake.event("checkout.session.async_payment_failed", completed["data"]["object"])

    for event in (failed, completed, failed):
        assert stripe_fake.post_to(client, URL, event).status_code == 200

    purchase = refreshed(purchase)
    assert purchase.status == Purchase.Status.FAILED
    assert purchase.failure_reason == "The payment did not go through."
    assert not Transfer.objects.for_org(org).exists()


def test_a_declined_card_on_the_checkout_page_leaves_the_purchase_open(
    org, owner, client, stripe_fake
):
    purchase = start(org, owner)
    intent = {
        "id": "pi_declined",
        "object": "payment_intent",
        "amount": 10000,
        "currency": "eur",
        "status": "requires_payment_method",
        "metadata": {"purchase_id": str(purchase.pk), "organization_id": str(org.pk)},
        "last_payment_error": {"type": "card_error", "code": "card_declined"},
    }

    stripe_fake.post_to(client, URL, stripe_fake.event("payment_intent.payment_failed", intent))

    # The payer may still try another card on the same page.
    assert refreshed(purchase).status == Purchase.Status.PENDING


def test_an_expired_checkout_fails_the_purchase(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    session = dict(stripe_fake.sessions[purchase.stripe_checkout_session_id], status="expired")

    stripe_fake.post_to(client, URL, stripe_fake.event("checkout.session.expired", session))

    purchase = refreshed(purchase)
    assert purchase.status == Purchase.Status.FAILED
    assert "expired" in purchase.failure_reason


def test_an_amount_that_does_not_match_is_not_credited(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    completed = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    completed["data"]["object"]["amount_total"] = 1

    assert stripe_fake.post_to(client, URL, completed).status_code == 200

    assert refreshed(purchase).status == Purchase.Status.PENDING
    assert "not credited" in StripeEvent.objects.get().error


def test_events_about_other_things_are_stored_and_answered(client, stripe_fake, org, owner):
    unknown = stripe_fake.event("customer.created", {"id": "cus_1", "object": "customer"})
    stranger = stripe_fake.event(
        "payment_intent.succeeded",
        {"id": "pi_x", "object": "payment_intent", "metadata": {"purchase_id": "999999"}},
    )
    other_org = stripe_fake.event(
        "payment_intent.succeeded",
        {
            "id": "pi_y",
            "object": "payment_intent",
            "metadata": {"purchase_id": str(start(org, owner).pk), "organization_id": "999999"},
        },
    )

    for event in (unknown, stranger, other_org):
        assert stripe_fake.post_to(client, URL, event).status_code == 200

    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == 3
    assert not Transfer.objects.for_org(org).exists()


def test_an_unexpected_failure_answers_500_and_the_retry_succeeds(
    org, owner, client, stripe_fake, monkeypatch
):
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    real = purchase_services.purchase_credit

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(webhooks, "purchase_credit", broken)
    assert stripe_fake.post_to(client, URL, event).status_code == 500
    stored = StripeEvent.objects.get()
    assert "database went away" in stored.error
    assert stored.processed_at is None
    assert refreshed(purchase).status == Purchase.Status.PENDING

    monkeypatch.setattr(webhooks, "purchase_credit", real)
    assert stripe_fake.post_to(client, URL, event).status_code == 200
    stored.refresh_from_db()
    assert (stored.error, refreshed(purchase).status) == ("", Purchase.Status.PAID)


# --- Saving the payment method for auto-recharge ---------------------------------------------


def test_a_checkout_with_auto_recharge_saves_the_payment_method(org, owner, client, stripe_fake):
    purchase = start(org, owner, amount=250, auto_recharge=True)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)

    stripe_fake.post_to(client, URL, event)

    row = credit_settings(org)
    session = event["data"]["object"]
    intent = stripe_fake.payment_intents[session["payment_intent"]]
    assert row.stripe_customer_id == session["customer"]
    assert row.stripe_payment_method_id == intent["payment_method"]
    assert row.payment_method_label == "Visa •••• 4242"
    assert row.auto_recharge_enabled is True
    assert row.auto_recharge_amount == Money(250, "EUR")
    assert row.auto_recharge_threshold == Money(50, "EUR")
    assert row.auto_recharge_monthly_max == Money(750, "EUR")
    # The event named the PaymentIntent only: its payment method was asked of Stripe.
    gets = [request["path"] for request in stripe_fake.requests if request["method"] == "GET"]
    assert gets == [
        f"/v1/payment_intents/{intent['id']}",
        f"/v1/payment_methods/{intent['payment_method']}",
    ]


def test_a_saved_payment_method_keeps_the_owners_amounts(org, owner, client, stripe_fake):
    row = credit_settings(org)
    row.auto_recharge_amount = Money(80, "EUR")
    row.auto_recharge_threshold = Money(10, "EUR")
    row.auto_recharge_monthly_max = Money(160, "EUR")
    row.auto_recharge_disabled_reason = "The card was declined (card_declined)."
    row.save()
    purchase = start(org, owner, auto_recharge=True, method="paypal")

    stripe_fake.post_to(client, URL, stripe_fake.pay_session(purchase.stripe_checkout_session_id))

    row = credit_settings(org)
    assert (row.auto_recharge_amount, row.auto_recharge_threshold) == (
        Money(80, "EUR"),
        Money(10, "EUR"),
    )
    assert row.auto_recharge_enabled is True
    assert row.auto_recharge_disabled_reason == ""
    assert row.payment_method_label == "PayPal (payer@example.com)"


def test_a_setup_checkout_replaces_the_payment_method(org, owner, client, stripe_fake):
    row = credit_settings(org)
    row.stripe_customer_id = "cus_old"
    row.stripe_payment_method_id = "pm_old"
    row.auto_recharge_amount = Money(100, "EUR")
    row.auto_recharge_threshold = Money(20, "EUR")
    row.auto_recharge_monthly_max = Money(300, "EUR")
    row.auto_recharge_disabled_reason = "The card was declined (card_declined)."
    row.save()
    response = owner_client(owner).post(
        reverse("credit:payment-method", kwargs={"org_slug": org.slug}),
        {"idempotency_key": "setup-1"},
    )
    [session] = stripe_fake.sessions.values()
    assert response.status_code == 303
    assert response["Location"] == session["url"]
    assert session["mode"] == "setup"
    assert session["customer"] == "cus_old"

    stripe_fake.post_to(client, URL, stripe_fake.pay_session(session["id"]))

    row = credit_settings(org)
    assert row.stripe_payment_method_id.startswith("pm_test_")
    assert row.payment_method_label == "Visa •••• 4242"
    assert row.auto_recharge_enabled is True
    assert row.auto_recharge_disabled_reason == ""
    assert AuditEvent.objects.for_org(org).filter(verb="payment_method.saved").count() == 1


def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner.user)
    return client


# --- Refunds ---------------------------------------------------------------------------------


def paid(org, owner, client, stripe_fake, amount=100):
    purchase = start(org, owner, amount=amount, key=f"form-{amount}")
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    stripe_fake.post_to(client, URL, event)
    return refreshed(purchase)


def test_a_full_refund_reverses_the_purchase_once(org, owner, client, stripe_fake):
    purchase = paid(org, owner, client, stripe_fake)
    charge = stripe_fake.charge_of(
        purchase.stripe_payment_intent_id, refunded_minor=10000, refund_id="re_1"
    )
    refunded = stripe_fake.event("charge.refunded", charge)

    for _ in range(2):
        assert stripe_fake.post_to(client, URL, refunded).status_code == 200
    again = stripe_fake.event("charge.refunded", charge)
    stripe_fake.post_to(client, URL, again)

    purchase = refreshed(purchase)
    assert purchase.status == Purchase.Status.REFUNDED
    assert purchase.refunded == Money(100, "EUR")
    assert company(org) == Money(0, "EUR")
    assert Transfer.objects.for_org(org).filter(kind="refund").count() == 1


def test_partial_refunds_add_up(org, owner, client, stripe_fake):
    purchase = paid(org, owner, client, stripe_fake)
    intent = purchase.stripe_payment_intent_id

    stripe_fake.post_to(
        client,
        URL,
        stripe_fake.event("charge.refunded", stripe_fake.charge_of(intent, refunded_minor=3000)),
    )
    stripe_fake.post_to(
        client,
        URL,
        stripe_fake.event("charge.refunded", stripe_fake.charge_of(intent, refunded_minor=5000)),
    )

    purchase = refreshed(purchase)
    assert purchase.status == Purchase.Status.PAID
    assert purchase.refunded == Money(50, "EUR")
    assert company(org) == Money(50, "EUR")


def test_refunding_credit_already_allocated_leaves_a_receivable(org, owner, client, stripe_fake):
    employee = MemberFactory(organization=org)
    purchase = paid(org, owner, client, stripe_fake)
    credit_allocate(
        organization=org, actor=owner, members=[employee], amount=70, idempotency_key="a1"
    )
    charge = stripe_fake.charge_of(
        purchase.stripe_payment_intent_id, refunded_minor=10000, refund_id="re_2"
    )

    stripe_fake.post_to(client, URL, stripe_fake.event("charge.refunded", charge))

    balances = organization_balances(org)
    assert balances["company"] == Money(0, "EUR")
    assert balances["owed"] == Money(70, "EUR")
    assert refreshed(purchase).status == Purchase.Status.REFUNDED


def test_a_refund_told_before_the_payment_credits_then_refunds(org, owner, client, stripe_fake):
    purchase = start(org, owner)
    completed = stripe_fake.pay_session(purchase.stripe_checkout_session_id)
    intent = completed["data"]["object"]["payment_intent"]
    charge = stripe_fake.charge_of(intent, refunded_minor=10000, refund_id="re_3")

    stripe_fake.post_to(client, URL, stripe_fake.event("charge.refunded", charge))
    stripe_fake.post_to(client, URL, completed)

    purchase = refreshed(purchase)
    assert purchase.status == Purchase.Status.REFUNDED
    assert company(org) == Money(0, "EUR")
    assert Transfer.objects.for_org(org).filter(kind="purchase").count() == 1


# --- Receipts after payment ------------------------------------------------------------------


def test_the_owners_receive_the_receipt_once(
    org, owner, client, stripe_fake, django_capture_on_commit_callbacks
):
    second_owner = MemberFactory(organization=org, role="owner")
    purchase = start(org, owner)
    event = stripe_fake.pay_session(purchase.stripe_checkout_session_id)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            stripe_fake.post_to(client, URL, event)

    emails = OutboundMessage.objects.filter(key__startswith=f"credit:receipt:{purchase.pk}:")
    assert sorted(emails.values_list("to", flat=True)) == sorted(
        [owner.user.email, second_owner.user.email]
    )
    message = emails.first()
    assert purchase.number in message.subject
    assert f"/credit/purchases/{purchase.pk}/" in message.body
    assert "€100.00" in message.html
