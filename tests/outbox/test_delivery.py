"""Outgoing messages are recorded, sent after commit, sent once, and failures are kept."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from outbox.models import OutboundMessage
from outbox.services import (
    TransientDeliveryError,
    message_deliver,
    message_queue_email,
    message_queue_sms,
    message_redispatch_stuck,
    messages_deliver,
)


@pytest.mark.django_db
def test_email_is_sent_after_commit_and_only_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_queue_email(
            to="ana@example.com", subject="Hello", body="Hi", html="<p>Hi</p>"
        )
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    callbacks[0]()
    message_deliver(message_id=message.pk)
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert mail.outbox[0].extra_headers["Message-ID"] == message.provider_id
    assert mail.outbox[0].alternatives[0].content == "<p>Hi</p>"


@pytest.mark.django_db
def test_a_key_queues_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = message_queue_sms(to="+33612345678", body="one", key="invitation:1")
        second = message_queue_sms(to="+33612345678", body="two", key="invitation:1")
    assert first.pk == second.pk
    assert OutboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_sms_is_delivered_through_the_backend(sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue_sms(to="+33612345678", body="Your code is 123456")
    assert [(sms.to, sms.body) for sms in sms_outbox] == [("+33612345678", "Your code is 123456")]
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider_id.startswith("locmem-")


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})


class DownBackend(RefusingBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server is down")


@pytest.fixture
def mailer(settings):
    def use(backend):
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.{backend.__name__}"}}

    return use


@pytest.mark.django_db
def test_a_refused_address_fails_for_good(mailer):
    mailer(RefusingBackend)
    message = message_queue_email(to="x@example.com", subject="s", body="b")
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed"
    assert "refused" in message.error
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.mark.django_db
def test_a_network_error_is_retried_and_recorded(mailer):
    mailer(DownBackend)
    message = message_queue_email(to="x@example.com", subject="s", body="b")
    with pytest.raises(TransientDeliveryError):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in message.error


@pytest.mark.django_db
def test_a_missing_message_is_a_no_op():
    assert message_deliver(message_id=987654) is None


@pytest.mark.django_db
def test_stuck_messages_are_dispatched_again(time_machine):
    time_machine.move_to("2026-01-01 09:00:00+00:00")
    stuck = message_queue_sms(to="+33612345678", body="stuck")
    time_machine.move_to("2026-01-01 09:20:00+00:00")
    fresh = message_queue_sms(to="+33612345678", body="fresh")
    assert message_redispatch_stuck() == [stuck.pk]
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, fresh.status) == ("sent", "queued")


@pytest.mark.django_db
def test_dev_outbox_lists_messages_with_clickable_links(client, settings):
    settings.DEV_OUTBOX = True
    message_queue_email(to="a@example.com", subject="Verify", body="Open https://example.com/v/1")
    message_queue_sms(to="+33612345678", body="Code 123456")
    page = client.get("/dev/outbox/").content.decode()
    assert '<a href="https://example.com/v/1"' in page
    assert page.index("Code 123456") < page.index("Verify"), "newest first"
    sms_only = client.get("/dev/outbox/?channel=sms").content.decode()
    assert "Verify" not in sms_only


@pytest.mark.django_db
def test_dev_outbox_does_not_exist_in_production(client, settings):
    settings.DEV_OUTBOX = False
    assert client.get("/dev/outbox/").status_code == 404


@pytest.mark.django_db
def test_bodies_are_dropped_once_sent_in_production(settings, django_capture_on_commit_callbacks):
    settings.DEV_OUTBOX = False
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue_sms(to="+33612345678", body="Code 123456")
    message.refresh_from_db()
    assert (message.status, message.body) == ("sent", "")


class CountingBackend(BaseEmailBackend):
    """Counts connections; the connection breaks on the email to broken@example.com."""

    opened = 0
    sent: list[str] = []

    def open(self):
        CountingBackend.opened += 1
        return True

    def send_messages(self, messages):
        for message in messages:
            if message.to == ["broken@example.com"]:
                raise smtplib.SMTPServerDisconnected("connection dropped")
            CountingBackend.sent.append(message.to[0])
        return len(messages)


@pytest.mark.django_db
def test_a_batch_shares_one_connection_and_reconnects_after_a_break(mailer):
    mailer(CountingBackend)
    CountingBackend.opened, CountingBackend.sent = 0, []
    addresses = ["a@example.com", "b@example.com", "broken@example.com", "c@example.com"]
    messages = [message_queue_email(to=to, subject="s", body="b") for to in addresses]
    with pytest.raises(TransientDeliveryError, match="connection dropped"):
        messages_deliver(message_ids=[message.pk for message in messages])
    assert CountingBackend.sent == ["a@example.com", "b@example.com", "c@example.com"]
    assert CountingBackend.opened == 2
    statuses = [OutboundMessage.objects.get(pk=message.pk).status for message in messages]
    assert statuses == ["sent", "sent", "queued", "sent"]
    # The retry sends only what is left.
    with pytest.raises(TransientDeliveryError):
        messages_deliver(message_ids=[message.pk for message in messages])
    assert CountingBackend.sent.count("a@example.com") == 1


@pytest.mark.django_db
def test_a_message_claimed_by_a_worker_that_died_is_never_sent_again(time_machine, sms_outbox):
    time_machine.move_to("2026-01-01 09:00:00+00:00")
    message = message_queue_sms(to="+33612345678", body="Code 123456")
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundMessage.Status.SENDING, claimed_at=timezone.now()
    )
    assert message_redispatch_stuck() == []
    message.refresh_from_db()
    assert message.status == "sending", "a slow worker keeps its claim"
    time_machine.move_to("2026-01-01 09:20:00+00:00")
    message_redispatch_stuck()
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed"
    assert "may not have arrived" in message.error
    assert sms_outbox == []
