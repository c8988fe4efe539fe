"""Waiting for what a real worker does, in its own time."""

import time


def wait_for(condition, timeout: float = 40.0) -> bool:
    """True as soon as `condition()` is true, False once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
