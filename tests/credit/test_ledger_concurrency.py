"""The ledger under real concurrency: threads, each with its own PostgreSQL connection.

Every test releases its threads together with a barrier, then checks that the books hold:
no wallet below zero, no money moved twice, no deadlock, `ledger_problems()` empty.
"""

import random
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections
from djmoney.money import Money

from credit.models import Account, Purchase, Transfer
from credit.selectors.ledger import ledger_problems
from credit.services.allocation import CompanyBalanceShort, credit_allocate, credit_take_back
from credit.services.ledger import (
    IdempotencyKeyReused,
    InsufficientFunds,
    Movement,
    member_wallet,
    member_wallets,
    system_account,
    transfer_post,
    transfers_post,
)
from credit.services.purchases import purchase_create, purchase_credit, purchase_refund
from organizations.models import AuditEvent
from skypemgr.errors import ApplicationError
from tests.credit.rules_support import bought
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def eur(value) -> Money:
    return Money(Decimal(value), "EUR")


def together(count: int, work, *, timeout: float = 60.0) -> list:
    """Run `work(i)` in `count` threads released at once; what each returned or raised.

    Each thread connects before the barrier (so that they start together) and closes its
    connection at the end. A thread still running after `timeout` fails the test.
    """
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[index] = work(index)
        except Exception as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} threads still running after {timeout} s"
    return outcomes


def balance(account: Account) -> Money:
    account.refresh_from_db()
    return account.balance


def unexpected(outcomes: list, expected: tuple[type[Exception], ...] = ()) -> list:
    """The exceptions among `outcomes` that are not refusals of the `expected` kinds."""
    return [
        outcome
        for outcome in outcomes
        if isinstance(outcome, Exception) and not isinstance(outcome, expected)
    ]


def test_32_allocations_of_10_from_100_exactly_10_succeed(org, owner, admin):
    bought(org, owner, 100)
    members = MemberFactory.create_batch(8, organization=org)
    company = system_account(org, Account.Kind.ORGANIZATION)
    lowest = [company.balance.amount]
    running = threading.Event()
    running.set()

    def watch() -> None:
        """A reader polling the company balance never sees it below zero."""
        try:
            while running.is_set():
                current = Account.objects.for_org(org).get(pk=company.pk).balance.amount
                lowest[0] = min(lowest[0], current)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        outcomes = together(
            32,
            lambda n: credit_allocate(
                organization=org,
                actor=admin,
                members=[members[n % len(members)]],
                amount=10,
                idempotency_key=f"race:{n}",
            ),
        )
    finally:
        running.clear()
        watcher.join(10)

    assert unexpected(outcomes, (CompanyBalanceShort,)) == []
    succeeded = [outcome for outcome in outcomes if isinstance(outcome, list)]
    assert len(succeeded) == 10
    assert balance(company) == eur(0)
    assert lowest[0] >= 0
    wallets = member_wallets(org, members)
    assert sum(wallet.balance.amount for wallet in wallets.values()) == 100
    assert Transfer.objects.for_org(org).filter(kind=Transfer.Kind.ALLOCATION).count() == 10
    assert AuditEvent.objects.for_org(org).filter(verb="credit.allocated").count() == 10


@pytest.mark.parametrize("rounds", [4])
def test_take_back_and_allocation_on_one_member_stay_consistent(org, owner, admin, rounds):
    bought(org, owner, 100)
    member = MemberFactory(organization=org)
    credit_allocate(organization=org, actor=admin, members=[member], amount=50, idempotency_key="a")
    company = system_account(org, Account.Kind.ORGANIZATION)
    wallet = member_wallet(org, member)
    given = taken = Decimal(0)

    for number in range(rounds):

        def work(n: int, number: int = number):
            key = f"round{number}:{n}"
            if n % 2 == 0:
                return credit_allocate(
                    organization=org, actor=admin, members=[member], amount=10,
                    idempotency_key=key,
                )  # fmt: skip
            # One take-back in four takes everything the member holds at that moment.
            amount = None if n % 4 == 3 else 10
            return credit_take_back(
                organization=org, actor=admin, members=[member], amount=amount,
                idempotency_key=key,
            )  # fmt: skip

        outcomes = together(16, work)
        assert unexpected(outcomes, (ApplicationError,)) == []
        for outcome in outcomes:
            if isinstance(outcome, ApplicationError):
                assert outcome.code in ("company_balance_short", "member_short", "empty")
                continue
            [transfer] = outcome
            if transfer.kind == Transfer.Kind.ALLOCATION:
                given += transfer.amount.amount
            else:
                taken += transfer.amount.amount
        assert balance(wallet) == eur(50 + given - taken)
        assert balance(company) == eur(50 - given + taken)
        assert min(balance(wallet).amount, balance(company).amount) >= 0
        assert ledger_problems(org) == []


def test_mixed_operations_on_many_accounts_never_deadlock(org, owner, admin):
    # Creation order decides lock order: the receivable and some wallets before the company
    # balance, so that every service takes locks in an order unlike the accounts' creation.
    system_account(org, Account.Kind.RECEIVABLE)
    members = MemberFactory.create_batch(10, organization=org)
    member_wallets(org, members[:5])
    for amount in (200, 200, 100):
        bought(org, owner, amount)
    member_wallets(org, members)
    usage = system_account(org, Account.Kind.USAGE)
    purchases = list(Purchase.objects.for_org(org))
    purchases_lock = threading.Lock()
    refusals = (ApplicationError,)

    def allocate(rng, key):
        chosen = rng.sample(members, rng.randint(1, 4))
        amount = Decimal(rng.randint(1, 500)) / 100
        credit_allocate(
            organization=org, actor=admin, members=chosen, amount=amount, idempotency_key=key
        )

    def take_back(rng, key):
        chosen = rng.sample(members, rng.randint(1, 3))
        amount = None if rng.random() < 0.3 else Decimal(rng.randint(1, 300)) / 100
        credit_take_back(
            organization=org, actor=admin, members=chosen, amount=amount, idempotency_key=key
        )

    def move(rng, key):
        """From one member to another through the company balance: two transactions."""
        source, destination = rng.sample(members, 2)
        amount = Decimal(rng.randint(1, 300)) / 100
        credit_take_back(
            organization=org, actor=admin, members=[source], amount=amount,
            idempotency_key=f"{key}:out",
        )  # fmt: skip
        credit_allocate(
            organization=org, actor=admin, members=[destination], amount=amount,
            idempotency_key=f"{key}:in",
        )  # fmt: skip

    def swap(rng, key):
        """From one member to another in one posting: both legs lock together."""
        source, destination = rng.sample(members, 2)
        company = system_account(org, Account.Kind.ORGANIZATION)
        amount = eur(Decimal(rng.randint(1, 300)) / 100)
        transfers_post(
            organization=org,
            actor=admin,
            movements=[
                Movement(member_wallet(org, source), company, amount, "take_back", f"{key}:1"),
                Movement(
                    company, member_wallet(org, destination), amount, "allocation", f"{key}:2"
                ),
            ],
        )

    def buy(rng, key):
        purchase = purchase_create(
            organization=org, actor=owner, method="bank_transfer", amount=rng.randint(5, 60)
        )
        purchase_credit(purchase=purchase)
        with purchases_lock:
            purchases.append(purchase)

    def credit_again(rng, key):
        with purchases_lock:
            purchase = rng.choice(purchases)
        purchase_credit(purchase=purchase)

    def refund(rng, key):
        with purchases_lock:
            purchase = rng.choice(purchases)
        purchase_refund(
            purchase=purchase,
            amount=Decimal(rng.randint(1, 2000)) / 100,
            refund_key=rng.choice([key, "re_shared"]),
        )

    def use(rng, key):
        member = rng.choice(members)
        transfer_post(
            organization=org,
            actor=None,
            source=member_wallet(org, member),
            destination=usage,
            amount=Decimal(rng.randint(1, 200)) / 100,
            kind=Transfer.Kind.USAGE,
            idempotency_key=f"usage:{key}",
        )

    operations = [allocate, take_back, move, swap, buy, credit_again, refund, use]

    def work(n: int) -> list:
        rng = random.Random(n)
        problems = []
        for step in range(20):
            operation = rng.choice(operations)
            try:
                operation(rng, f"mixed:{n}:{step}")
            except refusals:
                pass
            except Exception as error:
                problems.append(f"{operation.__name__}: {type(error).__name__}: {error}")
        return problems

    started = time.monotonic()
    outcomes = together(16, work, timeout=120)
    elapsed = time.monotonic() - started

    assert unexpected(outcomes) == []
    assert [problem for problems in outcomes for problem in problems] == []
    assert ledger_problems() == []
    assert elapsed < 120
    wallets = Account.objects.for_org(org).filter(kind__in=Account.WALLETS)
    assert all(account.balance.amount >= 0 for account in wallets)


def test_one_key_posted_from_8_threads_moves_money_once(org, owner, admin):
    bought(org, owner, 100)
    member = MemberFactory(organization=org)
    company = system_account(org, Account.Kind.ORGANIZATION)
    wallet = member_wallet(org, member)

    outcomes = together(
        8,
        lambda n: transfer_post(
            organization=org, actor=admin, source=company, destination=wallet, amount=10,
            kind=Transfer.Kind.ALLOCATION, idempotency_key="once",
        ),
    )  # fmt: skip

    assert unexpected(outcomes) == []
    assert {transfer.pk for transfer in outcomes} == {
        Transfer.objects.for_org(org).get(idempotency_key="once").pk
    }
    assert (balance(company), balance(wallet)) == (eur(90), eur(10))


def test_one_key_posted_to_different_accounts_from_8_threads_moves_money_once(org, owner, admin):
    """Eight pairs of wallets with nothing in common: no thread waits for another's locks, so
    the key's unique constraint decides; the others asked for other movements under the same
    key and are refused."""
    bought(org, owner, 100)
    members = MemberFactory.create_batch(16, organization=org)
    wallets = member_wallets(org, members)
    credit_allocate(
        organization=org, actor=admin, members=members[:8], amount=5, idempotency_key="a"
    )

    outcomes = together(
        8,
        lambda n: transfer_post(
            organization=org, actor=admin, source=wallets[members[n].pk],
            destination=wallets[members[8 + n].pk], amount=1, kind=Transfer.Kind.ADJUSTMENT,
            idempotency_key="move:once",
        ),
    )  # fmt: skip

    assert unexpected(outcomes, (IdempotencyKeyReused,)) == []
    posted = [outcome for outcome in outcomes if isinstance(outcome, Transfer)]
    assert len(posted) == 1
    held = sorted(balance(wallet).amount for wallet in wallets.values())
    assert held == [0] * 7 + [1] + [4] + [5] * 7


def test_one_purchase_credited_from_8_threads_is_credited_once(org, owner):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=80)

    outcomes = together(8, lambda n: purchase_credit(purchase=purchase))

    assert unexpected(outcomes) == []
    assert all(outcome.status == Purchase.Status.PAID for outcome in outcomes)
    credits = Transfer.objects.for_org(org).filter(idempotency_key=f"purchase:{purchase.pk}")
    assert credits.count() == 1
    assert balance(system_account(org, Account.Kind.ORGANIZATION)) == eur(80)


def test_one_allocation_form_posted_from_8_threads_moves_money_once(org, owner, admin):
    bought(org, owner, 100)
    members = MemberFactory.create_batch(3, organization=org)

    outcomes = together(
        8,
        lambda n: credit_allocate(
            organization=org, actor=admin, members=members, amount="7.5",
            idempotency_key="form:one",
        ),
    )  # fmt: skip

    assert unexpected(outcomes) == []
    assert len({transfer.pk for outcome in outcomes for transfer in outcome}) == 3
    assert balance(system_account(org, Account.Kind.ORGANIZATION)) == eur("77.5")
    assert AuditEvent.objects.for_org(org).filter(verb="credit.allocated").count() == 1


def test_a_refund_told_from_8_threads_reverses_once(org, owner):
    purchase = bought(org, owner, 100)

    outcomes = together(
        8, lambda n: purchase_refund(purchase=purchase, amount=30, refund_key="re_once")
    )

    assert unexpected(outcomes) == []
    purchase.refresh_from_db()
    assert purchase.refunded == eur(30)
    assert balance(system_account(org, Account.Kind.ORGANIZATION)) == eur(70)


def test_usage_from_8_threads_never_overdraws_a_wallet(org, owner, admin):
    bought(org, owner, 100)
    member = MemberFactory(organization=org)
    credit_allocate(organization=org, actor=admin, members=[member], amount=25, idempotency_key="a")
    wallet = member_wallet(org, member)
    usage = system_account(org, Account.Kind.USAGE)

    outcomes = together(
        8,
        lambda n: transfer_post(
            organization=org, actor=None, source=wallet, destination=usage, amount=4,
            kind=Transfer.Kind.USAGE, idempotency_key=f"usage:{n}",
        ),
    )  # fmt: skip

    assert unexpected(outcomes, (InsufficientFunds,)) == []
    assert sum(isinstance(outcome, Transfer) for outcome in outcomes) == 6
    assert balance(wallet) == eur(1)
