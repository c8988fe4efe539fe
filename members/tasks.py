"""Tasks of the members app; each takes the organization's id and ids of its rows (or nothing,
for a sweep), reloads them through the organization, and calls services."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from members.models import InvitationDelivery
from members.services.delivery import (
    invitation_deliveries_fail,
    invitation_deliveries_stuck,
    invitation_deliveries_write,
)
from members.services.invitations import invitations_expire_due
from organizations.models import Organization
from organizations.scoping import all_tenants, tenant_scope
from outbox.services import TransientDeliveryError, messages_deliver


def _organization_and_deliveries(first, delivery_ids) -> tuple[Organization | None, list[int]]:
    """The organization and the delivery ids of a call; until the next release also of the
    former call with the delivery ids alone (queued before the deploy), whose organization
    is read from the deliveries (a batch always belongs to one organization)."""
    if delivery_ids is None:
        delivery_ids = list(first or [])
        with all_tenants("a task queued before the deploy names its deliveries by id alone"):
            first = (
                InvitationDelivery.objects.filter(pk__in=delivery_ids)
                .values_list("organization_id", flat=True)
                .first()
            )
    if first is None:
        return None, delivery_ids
    return Organization.objects.filter(pk=first).first(), delivery_ids


class SendInvitationsTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        organization, delivery_ids = _organization_and_deliveries(
            args[0] if args else kwargs.get("organization_id"),
            args[1] if len(args) > 1 else kwargs.get("delivery_ids"),
        )
        if organization is None:
            return
        with tenant_scope(organization):
            invitation_deliveries_fail(
                organization=organization, delivery_ids=delivery_ids, reason=f"Gave up: {exc}"
            )


@shared_task(
    name="members.send_invitations",
    base=SendInvitationsTask,
    acks_late=True,
    autoretry_for=(TransientDeliveryError,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
)
def send_invitations(organization_id, delivery_ids: list[int] | None = None) -> None:
    """Write the deliveries' messages, then send them (emails over one SMTP connection)."""
    organization, delivery_ids = _organization_and_deliveries(organization_id, delivery_ids)
    if organization is None:
        return
    with tenant_scope(organization):
        message_ids = invitation_deliveries_write(
            organization=organization, delivery_ids=delivery_ids
        )
    messages_deliver(message_ids=message_ids)


@shared_task(name="members.send_stuck_invitations")
def send_stuck_invitations() -> int:
    """Beat, every 5 minutes: invitations whose sending task never reached a worker (the
    broker was down when they were made) are sent now, one task per batch."""
    batches = invitation_deliveries_stuck()
    for organization_id, delivery_ids in batches:
        send_invitations.delay(organization_id, delivery_ids)
    return len(batches)


@shared_task(name="members.expire_invitations")
def expire_invitations() -> None:
    invitations_expire_due()
