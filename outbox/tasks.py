"""Tasks that deliver outgoing messages; each takes an id and calls one service."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from outbox import services


class DeliveryTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        message_id = args[0] if args else kwargs.get("message_id")
        services.message_mark_failed(message_id=message_id, reason=f"Gave up: {exc}")


@shared_task(
    name="outbox.deliver",
    base=DeliveryTask,
    acks_late=True,
    autoretry_for=(services.TransientDeliveryError,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
)
def deliver_message(message_id: int) -> None:
    services.message_deliver(message_id=message_id)


@shared_task(name="outbox.redispatch_stuck")
def redispatch_stuck() -> None:
    services.message_redispatch_stuck()
