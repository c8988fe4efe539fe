"""Allocation throughput through the ledger's posting function, against the same database work
written by hand with raw psycopg2, in the same run (target: at least 0.5 of the raw rate).

Two shapes, 8 threads each: every thread allocating from ONE organization's company balance
(a hot row every posting locks), and threads allocating across 100 organizations (spread, so
rarely waiting for each other). The service side is `transfer_post` from the company balance
to a member's wallet, exactly as an allocation posts it, including its after-commit note to
the rules (a Redis round trip, and a Celery message when none is pending for the organization,
sent to a queue of this benchmark's own and purged at the end). The baseline,
per posting on its own connection: lock both account rows FOR UPDATE in id order, insert the
transfer row, update both balances, commit. Both sides post real transfers to the same
accounts, so `check_ledger` must find the books sound afterwards.
"""

import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from io import StringIO
from unittest import mock

import psycopg2
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from credit.models import Account, Transfer
from credit.services.ledger import member_wallets, system_account, transfer_post
from credit.services.purchases import purchase_create, purchase_credit
from organizations.models import Organization
from organizations.scoping import all_tenants
from skypemgr import celery_app
from tests.factories import MemberFactory, OrganizationFactory

THREADS = 8
POSTINGS = int(os.environ.get("BENCH_LEDGER_POSTINGS", "250"))  # per thread and round
ROUNDS = int(os.environ.get("BENCH_LEDGER_ROUNDS", "3"))
SPREAD = 100
AMOUNT = Decimal("0.0100")
QUEUE = "skypemgr-bench-ledger"

# (organization id, company account id, wallet account id) for each posting target.
Target = tuple[int, int, int]
# worker(thread, label, plan) prepares a thread (rows, connection) and returns its timed loop.
Worker = Callable[[int, str, list[int]], Callable[[], None]]


def _organization(number: int, members: int) -> list[Target]:
    organization = OrganizationFactory(
        name=f"Bench ledger {number}", slug=f"bench-ledger-{number}", verified=True
    )
    people = MemberFactory.create_batch(members, organization=organization)
    # Both sides' rounds and warm-ups, twice over.
    needed = AMOUNT * THREADS * POSTINGS * (ROUNDS + 1) * 2 * 2
    purchase = purchase_create(
        organization=organization, actor=None, method="bank_transfer", amount=max(needed, 50)
    )
    purchase_credit(purchase=purchase)
    company = system_account(organization, Account.Kind.ORGANIZATION)
    wallets = member_wallets(organization, people)
    return [(organization.pk, company.pk, wallets[person.pk].pk) for person in people]


def _service_worker(targets: list[Target]) -> Worker:
    """A thread's loop through `transfer_post`, with its own organization and account rows."""

    def work(thread: int, label: str, plan: list[int]) -> Callable[[], None]:
        with all_tenants("the benchmark loads its own organizations' accounts"):
            ids = {pk for target in targets for pk in target[1:]}
            accounts = Account.objects.in_bulk(list(ids))
            organizations = Organization.objects.in_bulk([target[0] for target in targets])

        def run() -> None:
            for number, index in enumerate(plan):
                organization_id, company_id, wallet_id = targets[index]
                transfer_post(
                    organization=organizations[organization_id],
                    actor=None,
                    source=accounts[company_id],
                    destination=accounts[wallet_id],
                    amount=AMOUNT,
                    kind=Transfer.Kind.ALLOCATION,
                    idempotency_key=f"bench:{label}:{thread}:{number}",
                )

        return run

    return work


def _raw_worker(targets: list[Target]) -> Worker:
    """The same postings by hand: one psycopg2 connection per thread, one transaction each."""
    settings = connection.settings_dict

    def work(thread: int, label: str, plan: list[int]) -> Callable[[], None]:
        raw = psycopg2.connect(
            dbname=settings["NAME"],
            user=settings["USER"],
            password=settings["PASSWORD"],
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
        )

        def run() -> None:
            try:
                with raw.cursor() as cursor:
                    for number, index in enumerate(plan):
                        organization_id, source, destination = targets[index]
                        cursor.execute(
                            "SELECT id, balance FROM credit_account WHERE id IN (%s, %s)"
                            " ORDER BY id FOR UPDATE",
                            sorted((source, destination)),
                        )
                        balances = dict(cursor.fetchall())
                        if balances[source] < AMOUNT:
                            raise RuntimeError("the baseline's company balance ran out")
                        cursor.execute(
                            "INSERT INTO credit_transfer (organization_id, source_id,"
                            " destination_id, amount, amount_currency, kind, memo,"
                            " idempotency_key, created_at)"
                            " VALUES (%s, %s, %s, %s, 'EUR', 'allocation', '', %s, now())",
                            [
                                organization_id,
                                source,
                                destination,
                                AMOUNT,
                                f"raw:{label}:{thread}:{number}",
                            ],
                        )
                        cursor.execute(
                            "UPDATE credit_account SET balance = balance - %s WHERE id = %s",
                            [AMOUNT, source],
                        )
                        cursor.execute(
                            "UPDATE credit_account SET balance = balance + %s WHERE id = %s",
                            [AMOUNT, destination],
                        )
                        raw.commit()
            finally:
                raw.close()

        return run

    return work


def _throughput(worker: Worker, label: str, plans: list[list[int]]) -> float:
    """Transfers per second of one thread per plan (THREADS here), started together (other
    benchmarks use it with the raw worker as their baseline)."""
    threads_count = len(plans)
    barrier = threading.Barrier(threads_count + 1)
    errors: list[BaseException] = []

    def thread_main(thread: int) -> None:
        try:
            run = worker(thread, label, plans[thread])
            connection.ensure_connection()
        except BaseException as error:
            errors.append(error)
            barrier.abort()
            raise
        try:
            barrier.wait()
            run()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=thread_main, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(len(plan) for plan in plans) / elapsed


def _plans(targets: list[Target], *, seed: int) -> list[list[int]]:
    """Which target each posting of each thread uses."""
    if len(targets) == THREADS:
        # One organization: each thread allocates to its own member, from the shared company.
        return [[thread] * POSTINGS for thread in range(THREADS)]
    rng = random.Random(seed)
    return [[rng.randrange(len(targets)) for _ in range(POSTINGS)] for _ in range(THREADS)]


@contextmanager
def _message_counted():
    """The after-commit note to the rules (a Redis round trip, sometimes a Celery message)
    counted in memory instead: the posting transaction alone (commit hooks still run)."""
    from credit.services import dropped

    noted = []

    def count(**note) -> bool:
        noted.append(note)
        return False

    with mock.patch.object(dropped, "dropped_note", count):
        yield noted


def _compare(name: str, targets: list[Target]) -> None:
    service, raw = _service_worker(targets), _raw_worker(targets)
    sides = {"service": service, "posting alone": service, "raw": raw}

    def measure(side: str, label: str, plans: list[list[int]]) -> float:
        with _message_counted() if side == "posting alone" else nullcontext():
            return _throughput(sides[side], f"{name}:{side}:{label}", plans)

    for side in sides:
        measure(side, "warmup", _plans(targets, seed=-1))
    rates: dict[str, list[float]] = {side: [] for side in sides}
    for number in range(ROUNDS):
        # Taking turns, so that all sides see the same database (bloat, cache) on average.
        for side in sides:
            rates[side].append(measure(side, str(number), _plans(targets, seed=number)))
        print(
            f"  round {number + 1}: "
            + ", ".join(f"{side} {values[-1]:.0f}/s" for side, values in rates.items()),
            flush=True,
        )
    ours, alone_rate, theirs = (statistics.median(rates[side]) for side in sides)
    print(
        f"allocation, {name}, {THREADS} threads x {POSTINGS} postings, median of {ROUNDS}:\n"
        f"  transfer_post: {ours:.0f} transfers/s; baseline raw psycopg2: {theirs:.0f}"
        f" transfers/s; ratio {ours / theirs:.2f} (target >= 0.5)\n"
        f"  the posting transaction alone (after-commit note to the rules counted, not"
        f" sent): {alone_rate:.0f} transfers/s; ratio {alone_rate / theirs:.2f}",
        flush=True,
    )


def _queries_per_posting(targets: list[Target]) -> None:
    organization_id, company_id, wallet_id = targets[0]
    with all_tenants("the benchmark loads its own organization's accounts"):
        organization = Organization.objects.get(pk=organization_id)
        accounts = Account.objects.in_bulk([company_id, wallet_id])
    with CaptureQueriesContext(connection) as queries:
        transfer_post(
            organization=organization,
            actor=None,
            source=accounts[company_id],
            destination=accounts[wallet_id],
            amount=AMOUNT,
            kind=Transfer.Kind.ALLOCATION,
            idempotency_key="bench:queries",
        )
    statements = [query["sql"].split(None, 1)[0] for query in queries.captured_queries]
    print(
        f"statements per posting: {len(statements)} ({', '.join(statements)}); "
        "raw: 6 (BEGIN, SELECT, INSERT, UPDATE, UPDATE, COMMIT)",
        flush=True,
    )


def run() -> None:
    eager, queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = QUEUE
    try:
        started = time.perf_counter()
        # The members' users need a password, not a slow one.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            hot = _organization(0, THREADS)
            spread = [target for n in range(1, SPREAD + 1) for target in _organization(n, 1)]
        print(f"{SPREAD + 1} organizations set up in {time.perf_counter() - started:.0f} s")
        _queries_per_posting(hot)
        # As in production: DEBUG would record and log every query on the service side only.
        with override_settings(DEBUG=False):
            _compare("one organization (hot company balance)", hot)
            _compare(f"{SPREAD} organizations (spread)", spread)
        out = StringIO()
        try:
            call_command("check_ledger", stdout=out, stderr=out)
        except Exception as error:  # the books must be sound: say how they are not
            print(f"check_ledger: FAILED: {error}\n{out.getvalue()}", flush=True)
            raise
        print(f"check_ledger: {out.getvalue().strip()}", flush=True)
    finally:
        with celery_app.connection_for_write() as broker:
            purged = broker.default_channel.queue_purge(QUEUE) or 0
        print(f"after-commit messages to the rules, sent then purged: {purged}", flush=True)
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = queue
