"""Sending text messages through a configurable backend, the way Django sends email.

`SMS_BACKEND` names a backend by short name (twilio, console, file, locmem, dummy) or by dotted
path to a class with the `BaseSmsBackend` interface. Callers use `send_sms()`; the outbox app is
the only caller in the product, so that every message is recorded and sent once.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

BACKENDS = {
    "twilio": "skypemgr.sms.backends.twilio.SmsBackend",
    "console": "skypemgr.sms.backends.console.SmsBackend",
    "file": "skypemgr.sms.backends.file.SmsBackend",
    "locmem": "skypemgr.sms.backends.locmem.SmsBackend",
    "dummy": "skypemgr.sms.backends.dummy.SmsBackend",
}

# Filled by the locmem backend; tests read and clear it.
outbox: list["SmsMessage"] = []


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsError(Exception):
    """Sending failed. `permanent` errors (a bad number) must not be retried."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


def get_backend(name: str | None = None):
    path = name or settings.SMS_BACKEND
    return import_string(BACKENDS.get(path, path))()


def send_sms(to: str, body: str, *, backend: str | None = None) -> str:
    """Send one message and return the provider's id for it (empty when it has none)."""
    return get_backend(backend).send(SmsMessage(to=to, body=body))
