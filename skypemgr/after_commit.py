"""Sending Celery tasks once the current transaction commits, without failing the request.

What a task works on is committed by then; the task itself is a follow-up (an email, a charge,
a notice). If Redis or the broker cannot be reached at that moment, the error is logged
(Django's robust on-commit callbacks) instead of turning a write that succeeded into an
error page, and the beat sweep that covers the task catches up: every caller names its sweep.
"""

from django.db import transaction


def task_after_commit(task, *args) -> None:
    """`task.delay(*args)` after commit; logged, not raised, when the broker is down."""

    def send() -> None:
        task.delay(*args)

    send.__qualname__ = f"send {task.name}"
    transaction.on_commit(send, robust=True)
