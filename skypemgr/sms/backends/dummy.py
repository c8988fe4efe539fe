"""Accepts every message and does nothing with it."""

from skypemgr.sms import SmsMessage
from skypemgr.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> str:
        return ""
