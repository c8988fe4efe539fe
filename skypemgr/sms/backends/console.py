"""Prints each message to standard output: the default in development."""

import sys
import uuid

from skypemgr.sms import SmsMessage
from skypemgr.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message: SmsMessage) -> str:
        self.stream.write(f"SMS to {message.to}\n{message.body}\n{'-' * 40}\n")
        self.stream.flush()
        return f"console-{uuid.uuid4().hex}"
