"""Waiting for what a real worker does, in its own time.

`wait_for` waits for something to happen. To show that nothing *else* happens (a task sent
twice changes nothing), `CeleryTasks.wait_idle` waits for the worker to have run every task
sent so far, then the test asserts: no sleeping for a guessed while.
"""

import threading
import time
from collections import Counter

from celery.signals import after_task_publish, task_postrun


def wait_for(condition, timeout: float = 40.0) -> bool:
    """True as soon as `condition()` is true, False once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


class CeleryTasks:
    """The tasks sent to the broker and the runs the worker finished, by task id, from Celery's
    own signals: `after_task_publish` in whichever thread sends (the test's, or the worker's
    when a task sends another), `task_postrun` in the worker's thread once a run ends (done,
    failed or retrying; a retry is sent again under the same id, so it counts twice)."""

    def __init__(self):
        self._changed = threading.Condition()
        self.sent: Counter[str] = Counter()
        self.sent_names: list[str] = []
        self.finished: Counter[str] = Counter()

    def connect(self) -> None:
        after_task_publish.connect(self._published, weak=False)
        task_postrun.connect(self._finished, weak=False)

    def disconnect(self) -> None:
        after_task_publish.disconnect(self._published)
        task_postrun.disconnect(self._finished)

    def _published(self, sender=None, headers=None, body=None, **kwargs) -> None:
        task_id = (headers or {}).get("id") or (body or {}).get("id")
        with self._changed:
            self.sent[task_id] += 1
            self.sent_names.append(sender)
            self._changed.notify_all()

    def _finished(self, task_id=None, **kwargs) -> None:
        with self._changed:
            self.finished[task_id] += 1
            self._changed.notify_all()

    def _idle(self) -> bool:
        return all(self.finished[task_id] >= count for task_id, count in self.sent.items())

    def wait_idle(self, timeout: float = 40.0) -> bool:
        """True once every task sent so far, and every task those sent, has been run."""
        with self._changed:
            return self._changed.wait_for(self._idle, timeout)
