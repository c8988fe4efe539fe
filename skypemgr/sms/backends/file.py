"""Writes each message to its own file under SMS_FILE_PATH."""

import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from skypemgr.sms import SmsMessage
from skypemgr.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, file_path: str | None = None):
        self.directory = Path(file_path or settings.SMS_FILE_PATH)

    def send(self, message: SmsMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = f"file-{uuid.uuid4().hex}"
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        path = self.directory / f"{stamp}-{message_id}.txt"
        path.write_text(f"To: {message.to}\n\n{message.body}\n", encoding="utf-8")
        return message_id
