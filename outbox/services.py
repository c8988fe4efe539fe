"""Queueing and delivering outgoing email and SMS.

Owns `OutboundMessage`. Queueing writes the row inside the caller's transaction and schedules
delivery for after commit, so nothing leaves before the data it speaks of exists. Delivery
locks the row, sends once, and records the outcome: a retried or duplicated task never sends
twice.
"""

import smtplib
from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers, make_msgid
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from outbox.attachments import attachments_build
from outbox.models import OutboundMessage
from skypemgr import sms
from skypemgr.after_commit import task_after_commit

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
    dispatch: bool = True,
    attachment: str = "",
) -> OutboundMessage:
    """Record an email and deliver it after the current transaction commits.

    With `dispatch=False` the caller delivers it itself (a task that wrote it, say).
    `attachment` names a file built when the email is sent (see outbox.attachments).
    """
    return _queue(
        channel=OutboundMessage.Channel.EMAIL,
        key=key,
        dispatch=dispatch,
        to=to,
        subject=subject,
        body=body,
        html=html,
        from_address=from_address or settings.DEFAULT_FROM_EMAIL,
        language=language,
        attachment=attachment,
    )


def message_queue_sms(
    *, to: str, body: str, language: str = "", key: str | None = None, dispatch: bool = True
) -> OutboundMessage:
    """Record a text message and deliver it after the current transaction commits."""
    return _queue(
        channel=OutboundMessage.Channel.SMS,
        key=key,
        dispatch=dispatch,
        to=to,
        body=body,
        language=language,
    )


def _queue(*, channel: str, key: str | None, dispatch: bool, **fields) -> OutboundMessage:
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
        if dispatch:
            # With the broker down the message waits, queued: message_redispatch_stuck
            # (beat, every 5 minutes) sends it.
            task_after_commit(deliver_message, message.pk)
    return message


def message_deliver(*, message_id: int) -> OutboundMessage | None:
    """Send one queued message, at most once (see `messages_deliver`)."""
    return messages_deliver(message_ids=[message_id])[0]


def messages_deliver(*, message_ids: Sequence[int]) -> list[OutboundMessage | None]:
    """Send queued messages, each at most once; emails share one SMTP connection.

    First the batch is claimed: in one short transaction, the queued messages among
    `message_ids` (skipping any that another task holds) turn "sending", so a duplicate task
    finds nothing left to claim. Then each is sent; failures are written at once, successes
    every few messages. A message whose worker died while it was "sending" is never sent again:
    the stuck-message sweep marks it failed, saying it may not have arrived. Missing or
    settled messages come back as they are (None if missing). After recording every attempt,
    raises TransientDeliveryError when some may succeed later.
    """
    claimed = _claim(message_ids)
    retry = []
    with _Mailer() as mailer, _Outcomes() as outcomes:
        for message in claimed.values():
            try:
                provider_id = _send(message, mailer)
            except _DeliveryFailed as failed:
                outcomes.failed(message, failed)
                if not failed.permanent:
                    retry.append(message)
            else:
                outcomes.sent(message, provider_id)
    found = {message.pk: message for message in OutboundMessage.objects.filter(pk__in=message_ids)}
    results = [claimed.get(message_id) or found.get(message_id) for message_id in message_ids]
    if retry:
        raise TransientDeliveryError("; ".join(message.error for message in retry))
    return results


def _claim(message_ids: Sequence[int]) -> dict[int, OutboundMessage]:
    with transaction.atomic():
        ids = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=message_ids, status=OutboundMessage.Status.QUEUED)
            .values_list("pk", flat=True)
        )
        OutboundMessage.objects.filter(pk__in=ids).update(
            status=OutboundMessage.Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=timezone.now(),
        )
    return {m.pk: m for m in OutboundMessage.objects.filter(pk__in=ids).order_by("pk")}


class _Outcomes:
    """Writes what happened to claimed messages: failures at once, successes in groups."""

    GROUP = 25

    def __init__(self):
        self.delivered: list[OutboundMessage] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.flush()

    def sent(self, message: OutboundMessage, provider_id: str) -> None:
        message.status = OutboundMessage.Status.SENT
        message.sent_at = timezone.now()
        message.provider_id = provider_id
        message.error = ""
        if not settings.DEV_OUTBOX:
            # Bodies may hold sign-in links and codes; once delivered, keep only the envelope.
            message.body = message.html = ""
        self.delivered.append(message)
        if len(self.delivered) >= self.GROUP:
            self.flush()

    def failed(self, message: OutboundMessage, failed: "_DeliveryFailed") -> None:
        message.error = failed.reason
        message.status = (
            OutboundMessage.Status.FAILED if failed.permanent else OutboundMessage.Status.QUEUED
        )
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=message.status, error=message.error
        )

    def flush(self) -> None:
        if self.delivered:
            OutboundMessage.objects.bulk_update(
                self.delivered,
                ["status", "sent_at", "provider_id", "error", "body", "html", "attachment_name"],
            )
            self.delivered = []


class _Mailer:
    """The default mailer, opened on first use and kept open for a batch of emails.

    After a failure the connection is dropped, so the next email starts a fresh one.
    """

    def __init__(self):
        self.backend = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.reset()

    def reset(self):
        if self.backend is not None:
            with suppress(smtplib.SMTPException, OSError):
                self.backend.close()
            self.backend = None

    def send(self, email: EmailMultiAlternatives) -> None:
        if self.backend is None:
            self.backend = mailers.default
            self.backend.open()
        try:
            self.backend.send_messages([email])
        except BaseException:
            self.reset()
            raise


def message_mark_failed(*, message_id: int, reason: str) -> None:
    """Give up on a message that could not be sent after every retry."""
    OutboundMessage.objects.filter(pk=message_id, status=OutboundMessage.Status.QUEUED).update(
        status=OutboundMessage.Status.FAILED, error=reason[:2000]
    )


def message_redispatch_stuck() -> list[int]:
    """Queue delivery again for messages whose dispatch never reached a worker (the broker was
    down at commit time), and fail messages a worker claimed and never settled (it died):
    those may have left, and are never sent twice. Delivery claims each message once, so a
    message that is merely slow is not sent twice either.
    """
    from outbox.tasks import deliver_message

    cutoff = timezone.now() - STUCK_AFTER
    OutboundMessage.objects.filter(
        status=OutboundMessage.Status.SENDING, claimed_at__lt=cutoff
    ).update(
        status=OutboundMessage.Status.FAILED,
        error="Sending was interrupted; the message may not have arrived.",
    )
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


def _send(message: OutboundMessage, mailer: _Mailer) -> str:
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
    if message.attachment:
        with translation.override(message.language or settings.LANGUAGE_CODE):
            documents = attachments_build(message.attachment)
        for document in documents:
            if document is not None:
                email.attach(document.filename, document.content, document.mimetype)
        # One name a line, in the order of the references ("" for a file left out).
        names = [document.filename if document else "" for document in documents]
        message.attachment_name = "\n".join(names)[:255] if any(names) else ""
    try:
        mailer.send(email)
    except smtplib.SMTPRecipientsRefused as error:
        raise _DeliveryFailed(f"Address refused: {error.recipients}", permanent=True) from error
    except (smtplib.SMTPException, OSError) as error:
        raise _DeliveryFailed(f"{type(error).__name__}: {error}", permanent=False) from error
    return message_id
