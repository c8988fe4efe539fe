"""Tasks for online numbers and voicemail: buying a number, the sweeps that re-send stuck
purchases and release numbers held too long, and delivering a voicemail. Each takes the
organization id with the row's id and calls one service of subscriptions.services; Twilio
unreachable is retried with backoff, anything else is the service's decision.
"""

from celery import shared_task

from organizations.models import Organization
from organizations.scoping import tenant_scope
from subscriptions.services import numbers as services
from subscriptions.services import voice
from subscriptions.services.twilio_numbers import ProviderUnavailable

__all__ = [
    "number_provision",
    "number_release",
    "provision_stuck_numbers",
    "release_held_numbers",
    "voicemail_deliver",
]

RETRY = {
    "autoretry_for": (ProviderUnavailable,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 5,
    "acks_late": True,
}


def _organization(organization_id: int) -> Organization | None:
    return Organization.objects.filter(pk=organization_id).first()


@shared_task(name="subscriptions.number_provision", **RETRY)
def number_provision(organization_id: int, subscription_id: int) -> str | None:
    """Buy the number of a subscription being set up (a retry never buys a second one)."""
    organization = _organization(organization_id)
    if organization is None:
        return None
    with tenant_scope(organization):
        subscription = services.number_provision(
            organization=organization, subscription_id=subscription_id
        )
    return subscription.status if subscription else None


@shared_task(name="subscriptions.provision_stuck_numbers")
def provision_stuck_numbers() -> int:
    """Beat, every 5 minutes: numbers still being set up after 10 minutes go to a worker
    again (their task was lost, or Twilio was down through its retries)."""
    stuck = services.numbers_stuck()
    for organization_id, subscription_id in stuck:
        number_provision.delay(organization_id, subscription_id)
    return len(stuck)


@shared_task(name="subscriptions.release_held_numbers")
def release_held_numbers() -> int:
    """Beat, hourly: numbers suspended or ended for longer than their organization's hold
    go back to Twilio, one task each."""
    due = services.numbers_release_due()
    for organization_id, subscription_id in due:
        number_release.delay(organization_id, subscription_id)
    return len(due)


@shared_task(name="subscriptions.number_release", **RETRY)
def number_release(organization_id: int, subscription_id: int) -> str | None:
    organization = _organization(organization_id)
    if organization is None:
        return None
    with tenant_scope(organization):
        subscription = services.number_release(
            organization=organization, subscription_id=subscription_id
        )
    return subscription.status if subscription else None


@shared_task(name="subscriptions.voicemail_deliver", **RETRY)
def voicemail_deliver(organization_id: int, voicemail_id: int) -> bool:
    """Fetch a new voicemail's audio and mail it to the member."""
    organization = _organization(organization_id)
    if organization is None:
        return False
    with tenant_scope(organization):
        return (
            voice.voicemail_deliver(organization=organization, voicemail_id=voicemail_id)
            is not None
        )
