"""Renewal tasks: the beat sweep, the batches it hands out, and renewing an organization's
unpaid subscriptions at once when credit arrives. Each takes ids and calls one service of
subscriptions.services.renewals; that service re-checks every subscription under its row lock,
so a sweep run twice (or two at once, or a batch redelivered after a worker died) renews each
period once.
"""

from celery import shared_task

from organizations.models import Organization
from organizations.scoping import tenant_scope
from subscriptions.services import renewals as services

__all__ = ["renew_due", "renew_organization", "renew_subscriptions"]


def _organization(organization_id: int) -> Organization | None:
    return Organization.objects.filter(pk=organization_id).first()


@shared_task(name="subscriptions.renew_due")
def renew_due() -> int:
    """Beat, every 15 minutes: hand out the subscriptions due now, in batches of one
    organization each. Returns how many were handed out."""
    due = services.subscriptions_due()
    for organization_id, subscription_ids in due:
        renew_subscriptions.delay(organization_id, subscription_ids)
    return sum(len(ids) for _, ids in due)


@shared_task(name="subscriptions.renew_subscriptions", acks_late=True)
def renew_subscriptions(organization_id: int, subscription_ids: list[int]) -> dict[str, int]:
    organization = _organization(organization_id)
    if organization is None:
        return {}
    with tenant_scope(organization):
        return services.subscriptions_renew(
            organization=organization, subscription_ids=subscription_ids
        )


@shared_task(name="subscriptions.renew_organization", acks_late=True)
def renew_organization(organization_id: int) -> dict[str, int]:
    """Credit arrived (a purchase was credited): try every unpaid due subscription of the
    organization now, whatever retry was planned."""
    organization = _organization(organization_id)
    if organization is None:
        return {}
    with tenant_scope(organization):
        due = services.subscriptions_due_for(organization=organization)
        return services.subscriptions_renew(organization=organization, subscription_ids=due)
