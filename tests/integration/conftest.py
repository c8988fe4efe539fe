"""A real Celery worker, in a thread, consuming from the real Redis."""

import pytest
from celery.contrib.testing.worker import start_worker

from skypemgr import celery_app


@pytest.fixture
def celery_worker_thread():
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
