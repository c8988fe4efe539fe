"""Buying online numbers from the provider, after the assign form committed."""

from celery import shared_task

from organizations.models import Organization
from organizations.scoping import tenant_scope


@shared_task(name="subscriptions.number_provision", acks_late=True)
def number_provision(organization_id: int, subscription_id: int) -> None:
    """Buy the number of a subscription that is being set up (once, whatever the retries)."""
    from subscriptions.services.numbers import number_provision as provision

    organization = Organization.objects.get(pk=organization_id)
    with tenant_scope(organization):
        provision(organization=organization, subscription_id=subscription_id)
