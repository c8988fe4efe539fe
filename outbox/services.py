"""Queueing and delivering outgoing email and SMS.

Owns `OutboundMessage`. Queueing writes the row inside the caller's transaction and schedules
delivery for after commit, so nothing leaves before the data it speaks of exists. Delivery
locks the row, sends once, and records the outcome: a retried or duplicated task never sends
twice.
"""

import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboundMessage
from skypemgr import sms

STUCK_AFTER = timedelta(minutes=10)


class TransientDeliveryError(Exception):
    """Sending failed for a reason that may pass (network, provider overload): retry."""


def message_queue_email(
    *,
    to: str,
    subject: str,
    body: str,
    html: str = "",
    from_address: str = "",
    language: str = "",
    key: str | None = None,
) -> OutboundMessage:
    """Record an email and deliver it after the current transaction commits."""
    return _queue(
        channel=OutboundMessage.Channel.EMAIL,
        key=key,
        to=to,
        subject=subject,
        body=body,
        html=html,
        from_address=from_address or settings.DEFAULT_FROM_EMAIL,
        language=language,
    )


def message_queue_sms(*, to: str, body: str, language: str = "", key: str | None = None):
    """Record a text message and deliver it after the current transaction commits."""
    return _queue(channel=OutboundMessage.Channel.SMS, key=key, to=to, body=body, language=language)


def _queue(*, channel: str, key: str | None, **fields) -> OutboundMessage:
    from outbox.tasks import deliver_message

    with transaction.atomic():
        if key is None:
            message = OutboundMessage.objects.create(channel=channel, **fields)
        else:
            message, created = OutboundMessage.objects.get_or_create(
                key=key, defaults={"channel": channel, **fields}
            )
            if not created:
                return message
        deliver_message.delay_on_commit(message.pk)
    return message


def message_deliver(*, message_id: int) -> OutboundMessage | None:
    """Send one queued message, at most once.

    Locks the message row for the whole send, so a duplicate task waits and then finds it
    sent. A missing or already settled message is left alone. Raises TransientDeliveryError
    after recording the attempt when sending may succeed later.
    """
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != OutboundMessage.Status.QUEUED:
            return message
        message.attempts += 1
        try:
            message.provider_id = _send(message)
        except _DeliveryFailed as failed:
            message.error = failed.reason
            if failed.permanent:
                message.status = OutboundMessage.Status.FAILED
            message.save(update_fields=["attempts", "error", "status"])
            retry = not failed.permanent
        else:
            message.status = OutboundMessage.Status.SENT
            message.sent_at = timezone.now()
            message.error = ""
            if not settings.DEV_OUTBOX:
                # Bodies may hold sign-in links and codes; once delivered, keep only the envelope.
                message.body = message.html = ""
            message.save()
            retry = False
    if retry:
        raise TransientDeliveryError(message.error)
    return message


def message_mark_failed(*, message_id: int, reason: str) -> None:
    """Give up on a message that could not be sent after every retry."""
    OutboundMessage.objects.filter(pk=message_id, status=OutboundMessage.Status.QUEUED).update(
        status=OutboundMessage.Status.FAILED, error=reason[:2000]
    )


def message_redispatch_stuck() -> list[int]:
    """Queue delivery again for messages whose first dispatch never reached a worker.

    That happens when the broker was down at commit time. Delivery is idempotent, so a message
    that is merely slow is not sent twice.
    """
    from outbox.tasks import deliver_message

    cutoff = timezone.now() - STUCK_AFTER
    ids = list(
        OutboundMessage.objects.filter(
            status=OutboundMessage.Status.QUEUED, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    for message_id in ids:
        deliver_message.delay(message_id)
    return ids


class _DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def _send(message: OutboundMessage) -> str:
    if message.channel == OutboundMessage.Channel.SMS:
        try:
            return sms.send_sms(message.to, message.body)
        except sms.SmsError as error:
            raise _DeliveryFailed(str(error), permanent=error.permanent) from error
    message_id = make_msgid(idstring=message.key, domain="skypemgr")
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=message.from_address,
        to=[message.to],
        headers={"Message-ID": message_id},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise _DeliveryFailed(f"Address refused: {error.recipients}", permanent=True) from error
    except (smtplib.SMTPException, OSError) as error:
        raise _DeliveryFailed(f"{type(error).__name__}: {error}", permanent=False) from error
    return message_id
