"""The invitation task names the organization and reloads its deliveries through it (issue 8,
item 22); the former call with the delivery ids alone keeps working for one release."""

from django.core import mail

from members.models import InvitationDelivery
from members.services import invitations as service
from members.services.invitations import Invitee
from members.tasks import send_invitations


def queued(organization, owner, django_capture_on_commit_callbacks) -> InvitationDelivery:
    with django_capture_on_commit_callbacks(execute=False):
        service.invitations_create(
            organization=organization, actor=owner, invitees=[Invitee("email", "ana@example.com")]
        )
    return InvitationDelivery.objects.for_org(organization).get()


def test_deliveries_are_found_through_their_organization(
    org, other_org, owner, django_capture_on_commit_callbacks
):
    delivery = queued(org, owner, django_capture_on_commit_callbacks)

    send_invitations.delay(other_org.pk, [delivery.pk])
    delivery.refresh_from_db()
    assert delivery.written_at is None
    assert mail.outbox == []

    send_invitations.delay(org.pk, [delivery.pk])
    delivery.refresh_from_db()
    assert delivery.written_at is not None
    assert [email.to for email in mail.outbox] == [["ana@example.com"]]


def test_the_former_call_with_delivery_ids_alone_still_works(
    org, owner, django_capture_on_commit_callbacks
):
    delivery = queued(org, owner, django_capture_on_commit_callbacks)

    send_invitations.delay([delivery.pk])

    assert [email.to for email in mail.outbox] == [["ana@example.com"]]
