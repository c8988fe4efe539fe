"""Tasks of the members app; each takes ids (or nothing) and calls services."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from members.services.delivery import invitation_deliveries_fail, invitation_deliveries_write
from members.services.invitations import invitations_expire_due
from outbox.services import TransientDeliveryError, messages_deliver


class SendInvitationsTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        delivery_ids = args[0] if args else kwargs.get("delivery_ids", [])
        invitation_deliveries_fail(delivery_ids=delivery_ids, reason=f"Gave up: {exc}")


@shared_task(
    name="members.send_invitations",
    base=SendInvitationsTask,
    acks_late=True,
    autoretry_for=(TransientDeliveryError,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
)
def send_invitations(delivery_ids: list[int]) -> None:
    """Write the deliveries' messages, then send them (emails over one SMTP connection)."""
    messages_deliver(message_ids=invitation_deliveries_write(delivery_ids=delivery_ids))


@shared_task(name="members.expire_invitations")
def expire_invitations() -> None:
    invitations_expire_due()
