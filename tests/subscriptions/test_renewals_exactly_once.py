"""Exactly one renewal per subscription and period whatever happens: two sweeps at once over
1,000 due subscriptions, and a real worker killed with SIGKILL in the middle of a sweep, then
started again."""

import os
import signal
import subprocess
import sys
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from credit.models import Transfer
from organizations.scoping import all_tenants
from skypemgr import celery_app
from subscriptions.models import Renewal
from subscriptions.tasks.renewals import renew_due
from tests.credit.rules_support import fund
from tests.factories import OrganizationFactory
from tests.integration.waiting import wait_for
from tests.subscriptions.renewals_support import due_subscriptions

ORGANIZATIONS = 4
PER_ORGANIZATION = 250


def _due_everywhere() -> list[int]:
    ids = []
    for _ in range(ORGANIZATIONS):
        organization = OrganizationFactory()
        fund(organization, 1000)
        ids += due_subscriptions(organization, PER_ORGANIZATION)
    return ids


def _renewed() -> Counter:
    """Renewals per subscription, paid ones only, each with its charge."""
    with all_tenants("the test counts every organization's renewals"):
        return Counter(
            Renewal.objects.filter(status="paid", transfer__isnull=False).values_list(
                "subscription_id", flat=True
            )
        )


def _charges() -> int:
    with all_tenants("the test counts every organization's charges"):
        return Transfer.objects.filter(kind=Transfer.Kind.SUBSCRIPTION_CHARGE).count()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_renew_each_of_1000_subscriptions_once():
    ids = _due_everywhere()
    barrier = threading.Barrier(2)
    errors = []

    def sweeper() -> None:
        try:
            barrier.wait()
            renew_due()
        except BaseException as error:  # the test reports it
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    renewed = _renewed()
    assert set(renewed) == set(ids)
    assert set(renewed.values()) == {1}
    assert _charges() == 1000
    assert renew_due() == 0


def _worker() -> subprocess.Popen:
    """A real worker process on this test run's queue, against the test database."""
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "skypemgr.settings",
        "DATABASE_URL": url,
        "CONN_MAX_AGE": "0",
    }
    # Our own interpreter running Celery: no untrusted input.
    return subprocess.Popen(  # noqa: S603
        [
            *(sys.executable, "-m", "celery", "-A", "skypemgr", "worker"),
            *("--pool", "solo", "--queues", celery_app.conf.task_default_queue),
            *("--loglevel", "WARNING", "--without-gossip", "--without-mingle"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_sweep_renews_each_once_when_restarted():
    ids = _due_everywhere()
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    worker = _worker()
    try:
        renew_due.delay()
        assert wait_for(lambda: sum(_renewed().values()) >= 150, timeout=90)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
        halfway = _renewed()
        assert 150 <= sum(halfway.values()) < 1000, "killed in the middle"
        # Nothing half-done: each renewal has its charge, and no charge lacks its renewal.
        assert set(halfway.values()) == {1}
        assert _charges() == sum(halfway.values())

        worker = _worker()
        renew_due.delay()  # the beat's next run
        assert wait_for(lambda: sum(_renewed().values()) >= 1000, timeout=120)
        renew_due.delay()
        # The last sweep finds nothing due (the queue empties once the worker took it).
        assert wait_for(
            lambda: (
                celery_app.connection_for_write().default_channel.client.llen(
                    celery_app.conf.task_default_queue
                )
                == 0
            ),
            timeout=30,
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        celery_app.control.purge()
    renewed = _renewed()
    assert set(renewed) == set(ids)
    assert set(renewed.values()) == {1}
    assert _charges() == 1000
