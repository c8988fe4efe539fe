"""A real Celery worker, in a thread, consuming from the real Redis."""

import pytest
from celery.contrib.testing.worker import start_worker

from skypemgr import celery_app
from tests.integration.waiting import CeleryTasks


@pytest.fixture
def celery_tasks():
    """What was sent to the worker and what it ran; `celery_tasks.wait_idle()` before
    asserting that nothing else happened."""
    tasks = CeleryTasks()
    tasks.connect()
    yield tasks
    tasks.disconnect()


@pytest.fixture
def celery_worker_thread(celery_tasks):
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        shutdown_timeout=20,
        loglevel="WARNING",
    ) as worker:
        yield worker
