"""Twilio's own price of a member's call or message, which Twilio knows only some time after
it ended: fetched by a task (usage.tasks.prices) and applied once by `usage_record_reprice`."""

import requests
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException

from organizations.models import Organization
from skypemgr.sms.backends.twilio import twilio_client
from subscriptions.services.twilio_numbers import ProviderUnavailable
from usage.models import UsageRecord
from usage.services.ingest import usage_record_reprice


class PriceNotYet(Exception):
    """Twilio has no price for it yet: ask again later."""


def twilio_price(*, kind: str, sid: str) -> tuple[str, str] | None:
    """(price, currency) Twilio charged for the call or message `sid`; None when Twilio does not
    know the sid; PriceNotYet when it has no price yet; ProviderUnavailable on trouble."""
    try:
        client = twilio_client()
        found = (
            client.calls(sid) if kind == UsageRecord.Kind.CALL else client.messages(sid)
        ).fetch()
    except TwilioRestException as error:
        if error.status == 404:
            return None
        raise ProviderUnavailable(error.msg or str(error)) from error
    except (TwilioException, requests.RequestException, ImproperlyConfigured) as error:
        raise ProviderUnavailable(str(error)) from error
    if found.price in (None, ""):
        raise PriceNotYet(sid)
    return str(found.price), str(found.price_unit or "")


def usage_price_fetch(*, organization: Organization, kind: str, sid: str) -> bool:
    """Fetch Twilio's price of a record and apply it (once; in the organization's currency
    only). Returns whether a price was applied."""
    found = twilio_price(kind=kind, sid=sid)
    if found is None:
        return False
    price, unit = found
    if unit.upper() != organization.currency:
        return False
    record = usage_record_reprice(
        organization=organization,
        source=UsageRecord.Source.TWILIO,
        external_id=sid,
        provider_cost=price,
    )
    return record is not None
