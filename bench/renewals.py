"""Renewal throughput: 20,000 due subscriptions over 200 organizations renewed by the real beat
sweep (`subscriptions.renew_due`, its batches through Redis) with one Celery worker, against
the ledger's raw posting baseline measured in the same run on one connection (target: at least
0.5 of its rate). Then `check_ledger` must be clean and exactly 20,000 renewals charged.

The subscriptions are made in bulk (each with its first period's renewal row) and the
companies funded through the real purchase services; only the renewals are timed, from the
sweep's message to the last renewal committed. The baseline is bench/ledger.py's raw psycopg2
posting (lock two accounts, insert the transfer, update both balances, commit), one thread: a
renewal charges one transfer, so a renewal costs at least one such posting.
"""

import datetime
import os
import random
import statistics
import time
from io import StringIO

from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.test import override_settings

from bench.ledger import _organization as ledger_organization
from bench.ledger import _raw_worker, _throughput
from credit.models import Transfer
from credit.services.purchases import purchase_create, purchase_credit
from organizations.scoping import all_tenants, tenant_scope
from skypemgr import celery_app
from subscriptions.models import Plan, Renewal, Subscription
from subscriptions.tasks.renewals import renew_due
from tests.factories import MemberFactory, OrganizationFactory

ORGANIZATIONS = int(os.environ.get("BENCH_RENEWALS_ORGANIZATIONS", "200"))
PER_ORGANIZATION = int(os.environ.get("BENCH_RENEWALS_PER_ORGANIZATION", "100"))
BASELINE_POSTINGS = 2000
BASELINE_ROUNDS = 3
QUEUE = "skypemgr-bench-renewals"


def _due(number: int, plan: Plan, end: datetime.datetime) -> None:
    """One organization, funded by a bank transfer, with PER_ORGANIZATION subscriptions whose
    period ended at `end` (made in bulk, each with its first period's row)."""
    organization = OrganizationFactory(
        name=f"Bench renewals {number}", slug=f"bench-renewals-{number}", verified=True
    )
    people = MemberFactory.create_batch(5, organization=organization)
    purchase = purchase_create(
        organization=organization, actor=None, method="bank_transfer", amount=PER_ORGANIZATION * 5
    )
    purchase_credit(purchase=purchase)
    start = end - datetime.timedelta(days=31)
    with tenant_scope(organization):
        made = Subscription.objects.bulk_create(
            Subscription(
                organization=organization,
                member=people[index % len(people)],
                plan=plan,
                status=Subscription.Status.ACTIVE,
                period_months=1,
                anchor_day=end.day,
                period_start=start,
                period_end=end,
            )
            for index in range(PER_ORGANIZATION)
        )
        Renewal.objects.bulk_create(
            Renewal(
                organization=organization,
                subscription=subscription,
                period_start=start,
                period_end=end,
                period_months=1,
                amount=0,
                status=Renewal.Status.PAID,
                attempts=1,
            )
            for subscription in made
        )


def _charged() -> int:
    with all_tenants("the benchmark counts every organization's renewals"):
        return Renewal.objects.filter(status=Renewal.Status.PAID, transfer__isnull=False).count()


def _baseline() -> float:
    """Raw postings per second on one connection (bench/ledger.py's baseline), median."""
    targets = [target for n in range(20) for target in ledger_organization(1000 + n, 1)]
    raw = _raw_worker(targets)
    rates = []
    for round_number in range(BASELINE_ROUNDS + 1):
        rng = random.Random(round_number)
        plan = [[rng.randrange(len(targets)) for _ in range(BASELINE_POSTINGS)]]
        rate = _throughput(raw, f"renewals-baseline:{round_number}", plan)
        if round_number:  # the first round warms up
            rates.append(rate)
    return statistics.median(rates)


def run() -> None:
    eager, queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = QUEUE
    total = ORGANIZATIONS * PER_ORGANIZATION
    try:
        started = time.perf_counter()
        plan = Plan.objects.get(code="france-landlines-unlimited")
        end = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            for number in range(ORGANIZATIONS):
                _due(number, plan, end)
            baseline = _baseline()
        print(
            f"{ORGANIZATIONS} organizations, {total} due subscriptions set up in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(QUEUE)
        with (
            override_settings(DEBUG=False),
            start_worker(
                celery_app,
                pool="solo",
                concurrency=1,
                perform_ping_check=False,
                shutdown_timeout=60,
                loglevel="WARNING",
            ),
        ):
            began = time.perf_counter()
            renew_due.delay()
            while _charged() < total and time.perf_counter() - began < 1800:
                time.sleep(0.2)
            elapsed = time.perf_counter() - began
        renewed = _charged()
        rate = renewed / elapsed
        print(
            f"renewals, {total} due over {ORGANIZATIONS} organizations, one worker: "
            f"{renewed} in {elapsed:.1f} s = {rate:.0f} renewals/s; baseline raw psycopg2 "
            f"postings on one connection: {baseline:.0f}/s; ratio {rate / baseline:.2f} "
            "(target >= 0.5)",
            flush=True,
        )
        out = StringIO()
        try:
            call_command("check_ledger", stdout=out, stderr=out)
        except Exception as error:  # the books must be sound: say how they are not
            print(f"check_ledger: FAILED: {error}\n{out.getvalue()}", flush=True)
            raise
        print(f"check_ledger: {out.getvalue().strip()}", flush=True)
        with all_tenants("the benchmark counts every organization's charges"):
            charges = Transfer.objects.filter(kind=Transfer.Kind.SUBSCRIPTION_CHARGE).count()
        print(f"renewals charged: {renewed}; charges: {charges} (expected {total} each)")
        if renewed != total or charges != total:
            raise AssertionError(f"expected exactly {total} renewals, got {renewed}/{charges}")
    finally:
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(QUEUE)
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = queue
