"""One row per email or SMS the product sends: the record that makes sending idempotent."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_key() -> str:
    return uuid.uuid4().hex


class OutboundMessage(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(max_length=8, choices=Channel)
    # What the message is for, e.g. "invitation:42:1"; a second queueing with the same key
    # returns the first message instead of sending again.
    key = models.CharField(max_length=200, unique=True, default=new_key)
    to = models.CharField(max_length=254)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    # The files built when the email is sent, e.g. "credit.receipt:42" (see outbox.attachments;
    # several are separated by spaces), and the names they had then, one a line (empty until
    # sent, or when there was nothing left to attach).
    attachment = models.CharField(max_length=200, blank=True)
    attachment_name = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=8, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When a worker claimed it for sending (status "sending").
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_status_created")]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.to}: {self.subject or self.body[:40]}"

    @property
    def attachment_files(self) -> list[tuple[int, str]]:
        """(position, name) of each file the email names; the name is empty until sent."""
        names = self.attachment_name.split("\n") if self.attachment_name else []
        return [
            (index, names[index] if index < len(names) else "")
            for index in range(len(self.attachment.split()))
        ]
