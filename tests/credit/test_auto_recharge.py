"""Company auto-recharge: when it starts, the off-session charge, refusals, the monthly
maximum in the organization's time zone, and one recharge at a time under concurrency."""

import datetime as dt
import threading

import pytest
import stripe
import time_machine
from django.db import connection
from django.urls import reverse
from djmoney.money import Money

from credit.models import Account, Purchase, Transfer
from credit.selectors.settings import credit_settings
from credit.services import auto_recharge as service
from credit.services.ledger import system_account, transfer_post
from credit.services.purchases import purchase_create, purchase_credit
from credit.services.stripe_gateway import payment_intent_off_session_create
from organizations.models import AuditEvent
from outbox.models import OutboundMessage
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.factories import MemberFactory

URL = "/webhooks/stripe/"


def configure(org, *, threshold=20, amount=100, monthly_max=300, enabled=True):
    row = credit_settings(org)
    row.auto_recharge_enabled = enabled
    row.auto_recharge_threshold = Money(threshold, org.currency)
    row.auto_recharge_amount = Money(amount, org.currency)
    row.auto_recharge_monthly_max = Money(monthly_max, org.currency)
    row.stripe_customer_id = "cus_saved"
    row.stripe_payment_method_id = "pm_saved"
    row.payment_method_label = "Visa •••• 4242"
    row.save()
    return row


def fund(org, amount):
    purchase = purchase_create(organization=org, actor=None, method="bank_transfer", amount=amount)
    return purchase_credit(purchase=purchase)


def spend(org, amount, key):
    transfer_post(
        organization=org,
        actor=None,
        source=system_account(org, Account.Kind.ORGANIZATION),
        destination=system_account(org, Account.Kind.USAGE),
        amount=amount,
        kind=Transfer.Kind.USAGE,
        idempotency_key=key,
    )


def company(org) -> Money:
    return system_account(org, Account.Kind.ORGANIZATION).balance


def recharges(org):
    return list(Purchase.objects.for_org(org).filter(method="auto_recharge").order_by("pk"))


@pytest.fixture
def low(org, owner, stripe_fake):
    """Auto-recharge set up (below 20, recharge 100) and the company balance at 10."""
    configure(org)
    fund(org, 100)
    spend(org, 90, "spend-1")
    return org


def test_a_low_balance_starts_one_off_session_charge(
    low, owner, client, stripe_fake, django_capture_on_commit_callbacks
):
    org = low
    with django_capture_on_commit_callbacks(execute=True):
        purchase = service.auto_recharge_start_if_needed(organization=org)

    assert purchase is not None
    assert (purchase.method, purchase.amount, purchase.created_by) == (
        "auto_recharge",
        Money(100, "EUR"),
        None,
    )
    [request] = stripe_fake.posts
    params = request["params"]
    assert request["path"] == "/v1/payment_intents"
    assert request["idempotency_key"] == f"purchase-{purchase.pk}-intent"
    assert params["amount"] == "10000"
    assert params["currency"] == "eur"
    assert params["customer"] == "cus_saved"
    assert params["payment_method"] == "pm_saved"
    assert (params["off_session"], params["confirm"]) == ("true", "true")
    assert params["metadata"]["purchase_id"] == str(purchase.pk)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PROCESSING
    assert purchase.stripe_payment_intent_id.startswith("pi_")
    # Only the webhook credits.
    assert company(org) == Money(10, "EUR")
    assert AuditEvent.objects.for_org(org).filter(verb="auto_recharge.started").count() == 1

    intent = stripe_fake.payment_intents[purchase.stripe_payment_intent_id]
    event = stripe_fake.event("payment_intent.succeeded", intent)
    assert stripe_fake.post_to(client, URL, event).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert company(org) == Money(110, "EUR")


def test_one_at_a_time(low, stripe_fake, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = service.auto_recharge_start_if_needed(organization=low)
    second = service.auto_recharge_start_if_needed(organization=low)

    assert first is not None
    assert second is None
    assert len(recharges(low)) == 1


@pytest.mark.parametrize(
    "change",
    [
        "above_threshold",
        "disabled",
        "no_payment_method",
        "no_stripe",
        "monthly_max",
        "no_threshold",
    ],
)
def test_when_nothing_starts(low, stripe_fake, settings, change):
    org = low
    row = credit_settings(org)
    if change == "above_threshold":
        row.auto_recharge_threshold = Money(10, "EUR")
    elif change == "disabled":
        row.auto_recharge_enabled = False
    elif change == "no_payment_method":
        row.stripe_payment_method_id = ""
    elif change == "no_stripe":
        settings.STRIPE_SECRET_KEY = ""
    elif change == "monthly_max":
        row.auto_recharge_monthly_max = Money(99, "EUR")
    elif change == "no_threshold":
        row.auto_recharge_threshold = Money(0, "EUR")
    row.save()

    assert service.auto_recharge_start_if_needed(organization=org) is None
    assert recharges(org) == []
    assert stripe_fake.requests == []


def test_the_monthly_maximum_counts_this_months_recharges(
    low, stripe_fake, django_capture_on_commit_callbacks
):
    org = low
    configure(org, monthly_max=200)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            purchase = service.auto_recharge_start_if_needed(organization=org)
        purchase_credit(purchase=purchase)
        spend(org, 100, f"spend-again-{purchase.pk}")

    assert company(org) == Money(10, "EUR")
    assert service.auto_recharge_start_if_needed(organization=org) is None
    assert service.auto_recharged_this_month(org) == Money(200, "EUR")


def test_the_month_starts_at_midnight_in_the_organizations_time_zone(org, owner, stripe_fake):
    configure(org, monthly_max=100)
    fund(org, 10)
    # 23:30 on 31 March in Paris (summer time, UTC+2): a March recharge.
    with time_machine.travel(dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC), tick=False):
        march = purchase_create(organization=org, actor=None, method="auto_recharge", amount=100)
        purchase_credit(purchase=march)
        spend(org, 100, "march")
    with time_machine.travel(dt.datetime(2026, 3, 31, 21, 50, tzinfo=dt.UTC), tick=False):
        assert service.auto_recharge_start_if_needed(organization=org) is None
    # 00:10 on 1 April in Paris, though still 31 March in UTC: a new month.
    with time_machine.travel(dt.datetime(2026, 3, 31, 22, 10, tzinfo=dt.UTC), tick=False):
        assert service.auto_recharge_start_if_needed(organization=org) is not None


@pytest.mark.parametrize(
    ("code", "words"), [("card_declined", "declined"), ("authentication_required", "confirm")]
)
def test_a_refused_card_turns_auto_recharge_off_and_tells_the_owners_once(
    low, owner, client, stripe_fake, django_capture_on_commit_callbacks, code, words
):
    org = low
    second_owner = MemberFactory(organization=org, role="owner")
    stripe_fake.fail_payments_with(code)

    with django_capture_on_commit_callbacks(execute=True):
        purchase = service.auto_recharge_start_if_needed(organization=org)

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.FAILED
    assert code in purchase.failure_reason
    assert words in purchase.failure_reason
    row = credit_settings(org)
    assert row.auto_recharge_enabled is False
    assert row.auto_recharge_disabled_reason == purchase.failure_reason
    emails = OutboundMessage.objects.filter(key__startswith="credit:auto-recharge-disabled:")
    assert sorted(emails.values_list("to", flat=True)) == sorted(
        [owner.user.email, second_owner.user.email]
    )
    link = reverse("credit:payment-method", kwargs={"org_slug": org.slug})
    assert link in emails.first().body
    assert link in emails.first().html
    assert company(org) == Money(10, "EUR")

    # Stripe's webhook about the same refusal changes nothing more.
    [intent] = stripe_fake.payment_intents.values()
    event = stripe_fake.event("payment_intent.payment_failed", intent)
    with django_capture_on_commit_callbacks(execute=True):
        assert stripe_fake.post_to(client, URL, event).status_code == 200
    assert emails.count() == 2
    assert company(org) == Money(10, "EUR")
    assert (
        not Transfer.objects.for_org(org)
        .filter(kind="purchase", memo__contains="recharge")
        .exists()
    )
    # And no new recharge starts while it is off.
    assert service.auto_recharge_start_if_needed(organization=org) is None


def test_a_refusal_told_only_by_the_webhook_does_the_same(
    low, owner, client, stripe_fake, django_capture_on_commit_callbacks
):
    org = low
    purchase = purchase_create(organization=org, actor=None, method="auto_recharge", amount=100)
    intent = {
        "id": "pi_async_refusal",
        "object": "payment_intent",
        "amount": 10000,
        "currency": "eur",
        "status": "requires_payment_method",
        "metadata": {"purchase_id": str(purchase.pk), "organization_id": str(org.pk)},
        "last_payment_error": {
            "type": "card_error",
            "code": "authentication_required",
            "message": "This transaction requires authentication.",
        },
    }

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            event = stripe_fake.event("payment_intent.payment_failed", intent)
            stripe_fake.post_to(client, URL, event)

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.FAILED
    assert purchase.stripe_payment_intent_id == "pi_async_refusal"
    assert credit_settings(org).auto_recharge_enabled is False
    assert (
        OutboundMessage.objects.filter(key__startswith="credit:auto-recharge-disabled:").count()
        == 1
    )


def test_every_attempt_shows_in_the_history(
    low, owner, login, stripe_fake, django_capture_on_commit_callbacks
):
    stripe_fake.fail_payments_with("card_declined")
    with django_capture_on_commit_callbacks(execute=True):
        service.auto_recharge_start_if_needed(organization=low)

    page = login(owner).get(
        reverse("credit:purchase-list", kwargs={"org_slug": low.slug}) + "?method=auto_recharge"
    )

    assert page.context["page"].paginator.count == 1
    content = page.content.decode()
    assert "Automatic recharge" in content
    assert "Failed" in content
    assert "card_declined" in content
    settings_page = login(owner).get(reverse("credit:auto-recharge", kwargs={"org_slug": low.slug}))
    assert "was turned off because a charge was refused" in settings_page.content.decode()


def test_a_repeated_charge_is_the_same_charge(low, stripe_fake):
    purchase = purchase_create(organization=low, actor=None, method="auto_recharge", amount=100)

    first = payment_intent_off_session_create(
        purchase=purchase, customer_id="cus_saved", payment_method_id="pm_saved"
    )
    second = payment_intent_off_session_create(
        purchase=purchase, customer_id="cus_saved", payment_method_id="pm_saved"
    )
    service.auto_recharge_charge(organization=low, purchase_id=purchase.pk)
    service.auto_recharge_charge(organization=low, purchase_id=purchase.pk)

    assert first["id"] == second["id"]
    assert len(stripe_fake.payment_intents) == 1
    purchase.refresh_from_db()
    assert purchase.stripe_payment_intent_id == first["id"]


def test_stripe_out_of_reach_fails_the_recharge_after_the_retries(low, stripe_fake):
    purchase = purchase_create(organization=low, actor=None, method="auto_recharge", amount=100)
    stripe_fake.close()

    with pytest.raises(stripe.APIConnectionError):
        service.auto_recharge_charge(organization=low, purchase_id=purchase.pk)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING

    service.auto_recharge_give_up(
        organization=low, purchase_id=purchase.pk, reason="Stripe could not be reached."
    )
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.FAILED
    # A network failure says nothing about the card: auto-recharge stays on.
    assert credit_settings(low).auto_recharge_enabled is True


def test_a_missing_purchase_is_nothing_to_charge(org):
    assert service.auto_recharge_charge(organization=org, purchase_id=987654321) is None


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_debits_crossing_the_threshold_start_one_recharge(org, owner, stripe_fake):
    org.verified = True
    org.save()
    configure(org, threshold=500, amount=100, monthly_max=1000)
    fund(org, 1000)
    barrier = threading.Barrier(50)
    started, errors = [], []

    def debit(number):
        try:
            barrier.wait()
            spend(org, 20, f"concurrent-{number}")
            started.append(service.auto_recharge_start_if_needed(organization=org))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=debit, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert company(org) == Money(0, "EUR")
    assert len(recharges(org)) == 1
    # The ledger's after-commit hook (balances_dropped) may be the one that started it.
    assert len([purchase for purchase in started if purchase is not None]) <= 1
    assert len([r for r in stripe_fake.posts if r["path"] == "/v1/payment_intents"]) == 1
    assert recharges(org)[0].status == Purchase.Status.PROCESSING
