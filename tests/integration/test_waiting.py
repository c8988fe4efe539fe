"""`celery_tasks.wait_idle()` waits for every task sent, and for the tasks those send, so a
test can assert that nothing else happened without sleeping."""

import threading

import pytest

from skypemgr import celery_app

release = threading.Event()
runs: list[str] = []


@celery_app.task(name="tests.integration.held")
def held(then_send: bool) -> None:
    """Runs once the test releases it; may send one more task, as a sweep fans out."""
    assert release.wait(timeout=30)
    runs.append("held")
    if then_send:
        follow_up.delay()


@celery_app.task(name="tests.integration.follow_up")
def follow_up() -> None:
    runs.append("follow-up")


@pytest.mark.integration
def test_idle_means_every_task_and_its_follow_ups_ran(celery_worker_thread, celery_tasks):
    release.clear()
    runs.clear()
    held.delay(then_send=True)

    # Still held by the test: not idle, whatever the wait.
    assert not celery_tasks.wait_idle(timeout=0.5)
    release.set()

    assert celery_tasks.wait_idle()
    assert runs == ["held", "follow-up"]
    assert celery_tasks.sent_names == ["tests.integration.held", "tests.integration.follow_up"]


@pytest.mark.integration
def test_idle_at_once_when_nothing_was_sent(celery_worker_thread, celery_tasks):
    assert celery_tasks.wait_idle(timeout=0)
