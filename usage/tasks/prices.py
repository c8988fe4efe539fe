"""Fetching Twilio's price of members' calls and messages, some minutes after they ended."""

from celery import shared_task

from organizations.models import Organization
from organizations.scoping import tenant_scope
from subscriptions.services.twilio_numbers import ProviderUnavailable

# Twilio prices a call within minutes; asked at 2, 4, 8… minutes, for about four hours.
FIRST_ASK = 120
ASKS = 7


@shared_task(
    name="usage.fetch_price", bind=True, acks_late=True, ignore_result=True, max_retries=ASKS
)
def fetch_price(self, organization_id: int, kind: str, sid: str) -> None:
    from usage.services.twilio_prices import PriceNotYet, usage_price_fetch

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return
    try:
        with tenant_scope(organization):
            usage_price_fetch(organization=organization, kind=kind, sid=sid)
    except (PriceNotYet, ProviderUnavailable) as error:
        if self.request.is_eager:
            return
        raise self.retry(exc=error, countdown=FIRST_ASK * 2**self.request.retries) from error
