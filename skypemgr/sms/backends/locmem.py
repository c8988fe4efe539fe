"""Keeps messages in `skypemgr.sms.outbox`, for tests."""

import uuid

from skypemgr import sms
from skypemgr.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send(self, message: sms.SmsMessage) -> str:
        sms.outbox.append(message)
        return f"locmem-{uuid.uuid4().hex}"
