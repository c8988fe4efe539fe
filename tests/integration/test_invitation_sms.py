"""An invitation SMS leaves once, through the real worker and Twilio's client, even when the
first attempt hits a network fault and the task is retried, or the task arrives twice."""

import pytest

from members.models import InvitationDelivery
from members.services.invitations import Invitee, invitations_create
from members.tasks import send_invitations
from organizations.roles import Role
from outbox.models import OutboundMessage
from tests.factories import MemberFactory
from tests.integration.waiting import wait_for


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_sms_goes_out_once_after_a_network_fault(
    celery_worker_thread, celery_tasks, twilio, settings
):
    settings.SMS_BACKEND = "twilio"
    twilio.drop_next = 1
    owner = MemberFactory(role=Role.OWNER)
    invitations_create(
        organization=owner.organization,
        actor=owner,
        invitees=[Invitee("phone", "+33612345678")],
    )
    assert wait_for(lambda: len(twilio.accepted) == 1)
    message = OutboundMessage.objects.get()
    assert wait_for(lambda: OutboundMessage.objects.get().status == "sent")
    message.refresh_from_db()
    assert message.attempts == 2, "the first attempt met the fault"
    assert len(twilio.requests) == 2

    # The broker may deliver a task twice; the second run finds the message sent.
    delivery = InvitationDelivery.objects.for_org(owner.organization).get()
    send_invitations.delay([delivery.pk])
    send_invitations.delay([delivery.pk])
    assert celery_tasks.wait_idle()
    assert len(twilio.accepted) == 1
    [sms] = twilio.accepted
    assert sms["form"]["To"] == ["+33612345678"]
    assert "Code:" in sms["form"]["Body"][0]
