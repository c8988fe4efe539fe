"""The ledger's lock order (issue 8, item 4): the organization row, then the purchase or
settings row, then the accounts in id order. Threads with their own PostgreSQL connections
mix purchase creation, company auto-recharge and postings on an organization whose currency
is not fixed yet: none deadlocks, and the books hold."""

import random
import threading
import time

import pytest
from django.db import connection, connections, transaction
from djmoney.money import Money

from credit.models import Account, Purchase, Transfer
from credit.selectors.ledger import ledger_problems
from credit.selectors.settings import credit_settings
from credit.services import ledger
from credit.services.allocation import CompanyBalanceShort, credit_allocate
from credit.services.auto_recharge import auto_recharge_start_if_needed
from credit.services.purchases import purchase_create, purchase_credit
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 60.0


def run_threads(*works) -> list:
    """Run each callable in a thread of its own; what each returned or raised."""
    outcomes: list = [None] * len(works)

    def run(index: int) -> None:
        try:
            outcomes[index] = works[index]()
        except Exception as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(len(works))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + DEADLINE
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "threads still running"
    return outcomes


def waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def test_a_purchase_credited_while_another_is_created_and_credited_does_not_deadlock(org, owner):
    """One transaction creates a purchase (the organization row) and credits it (the
    accounts) while a webhook credits an earlier purchase (the accounts). When postings took
    the organization row after the accounts to fix the currency, the two waited on each
    other: PostgreSQL found a deadlock and failed one of them."""
    earlier = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=40)
    organization_held, webhook_done = threading.Event(), threading.Event()
    webhook_pid: list[int] = []

    def webhook() -> Purchase:
        connection.ensure_connection()
        webhook_pid.append(connection.connection.get_backend_pid())
        organization_held.wait(DEADLINE)
        try:
            return purchase_credit(purchase=earlier)
        finally:
            webhook_done.set()

    def buy_and_credit() -> Purchase:
        with transaction.atomic():
            purchase = purchase_create(
                organization=org, actor=owner, method="bank_transfer", amount=60
            )
            organization_held.set()
            # Let the webhook run into whatever it waits for (or finish) before going on.
            deadline = time.monotonic() + DEADLINE
            while not webhook_done.is_set() and time.monotonic() < deadline:
                if webhook_pid and waiting_on_a_lock(webhook_pid[0]):
                    break
                time.sleep(0.01)
            return purchase_credit(purchase=purchase)

    outcomes = run_threads(webhook, buy_and_credit)

    assert [type(outcome) for outcome in outcomes] == [Purchase, Purchase]
    company = ledger.system_account(org, Account.Kind.ORGANIZATION)
    assert company.balance == Money(100, "EUR")
    assert ledger_problems() == []


@pytest.mark.parametrize("earlier", [3, 0], ids=["purchases-waiting", "currency-not-fixed"])
def test_purchases_auto_recharges_and_postings_mixed_never_deadlock(
    org, owner, stripe_fake, earlier
):
    """Twelve threads on an organization without any transfer yet, in random orders:
    purchases created and credited in one transaction, webhooks crediting earlier purchases
    (or, with none, usage posted while the currency is not fixed yet: the ledger fixes it),
    company auto-recharges starting, allocations and usage posted."""
    members = MemberFactory.create_batch(4, organization=org)
    waiting = [
        purchase_create(organization=org, actor=owner, method="bank_transfer", amount=50)
        for _ in range(earlier)
    ]
    row = credit_settings(org)
    row.auto_recharge_enabled = True
    row.auto_recharge_threshold = Money(1000, "EUR")
    row.auto_recharge_amount = Money(100, "EUR")
    row.auto_recharge_monthly_max = Money(1000, "EUR")
    row.stripe_customer_id, row.stripe_payment_method_id = "cus_saved", "pm_saved"
    row.save()
    start = threading.Barrier(12)
    rng = random.Random(8)

    def buy_and_credit(n):
        def work():
            start.wait(DEADLINE)
            with transaction.atomic():
                purchase = purchase_create(
                    organization=org, actor=owner, method="bank_transfer", amount=10 + n
                )
                return purchase_credit(purchase=purchase)

        return work

    def webhook(purchase):
        def work():
            start.wait(DEADLINE)
            return purchase_credit(purchase=purchase)

        return work

    def recharge():
        start.wait(DEADLINE)
        return auto_recharge_start_if_needed(organization=org)

    def allocate(n):
        def work():
            start.wait(DEADLINE)
            return credit_allocate(
                organization=org,
                actor=owner,
                members=rng.sample(members, 2),
                amount=5,
                idempotency_key=f"mix:{n}",
            )

        return work

    def usage(n):
        def work():
            start.wait(DEADLINE)
            return ledger.transfer_post(
                organization=org,
                actor=None,
                source=ledger.system_account(org, Account.Kind.RECEIVABLE),
                destination=ledger.system_account(org, Account.Kind.USAGE),
                amount=1,
                kind=Transfer.Kind.USAGE,
                idempotency_key=f"usage:{n}",
            )

        return work

    works = [
        *(buy_and_credit(n) for n in range(3)),
        *(webhook(purchase) for purchase in waiting),
        recharge,
        recharge,
        *(allocate(n) for n in range(2)),
        *(usage(n) for n in range(5 - earlier)),
    ]
    rng.shuffle(works)

    outcomes = run_threads(*works)

    unexpected = [
        outcome
        for outcome in outcomes
        if isinstance(outcome, Exception) and not isinstance(outcome, CompanyBalanceShort)
    ]
    assert unexpected == []
    assert Purchase.objects.for_org(org).filter(status=Purchase.Status.PAID).count() == 3 + earlier
    assert Purchase.objects.for_org(org).filter(method="auto_recharge").count() == 1
    assert ledger_problems() == []
