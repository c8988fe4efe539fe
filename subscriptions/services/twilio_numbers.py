"""The few Twilio calls online numbers need, in one place: search, buy, find ours, release,
and fetch a recording's audio.

Every call goes through twilio-python with the client of skypemgr.sms.backends.twilio (which
honours TWILIO_API_BASE). Errors come back as two kinds: `NumberRefused` (Twilio said no: no
such number, not allowed; retrying cannot help) and `ProviderUnavailable` (the network or
Twilio's own trouble: a retry may pass).
"""

from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException

from skypemgr.sms.backends.twilio import TWILIO_API_ORIGIN, twilio_client

# Most results a search shows.
SEARCH_LIMIT = 20
RECORDING_MAX_BYTES = 10 * 1024 * 1024


class NumberRefused(Exception):
    """Twilio refused (a 4xx other than 429): the reason is its message."""


class ProviderUnavailable(Exception):
    """The request did not get an answer that decides anything (network, 429, 5xx)."""


@dataclass(frozen=True)
class AvailableNumber:
    phone_number: str
    friendly_name: str
    locality: str
    region: str


@dataclass(frozen=True)
class OwnedNumber:
    sid: str
    phone_number: str


def _translate(error: Exception) -> Exception:
    if isinstance(error, TwilioRestException):
        if 400 <= error.status < 500 and error.status != 429:
            return NumberRefused(error.msg or str(error))
        return ProviderUnavailable(error.msg or str(error))
    return ProviderUnavailable(str(error))


def numbers_available() -> bool:
    """Whether this server can buy numbers: a Twilio account is configured (the demo of
    `make run` has none)."""
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def webhook_url(url_name: str) -> str:
    """The public address Twilio calls (and signs): SITE_URL + our path."""
    return settings.SITE_URL + reverse(url_name)


def numbers_search(
    *, country: str, area_code: str = "", contains: str = "", limit: int = SEARCH_LIMIT
) -> list[AvailableNumber]:
    """Local numbers Twilio offers in `country`, in an area code or matching a pattern."""
    filters = {}
    if area_code:
        filters["area_code"] = area_code
    if contains:
        filters["contains"] = contains
    try:
        found = (
            twilio_client()
            .available_phone_numbers(country.upper())
            .local.list(limit=limit, **filters)
        )
    except (TwilioException, requests.RequestException, ImproperlyConfigured) as error:
        raise _translate(error) from error
    return [
        AvailableNumber(
            phone_number=number.phone_number,
            friendly_name=number.friendly_name or number.phone_number,
            locality=number.locality or "",
            region=number.region or "",
        )
        for number in found
    ]


def number_find_ours(marker: str) -> OwnedNumber | None:
    """The number bought under `marker` (its FriendlyName), if one was."""
    try:
        found = twilio_client().incoming_phone_numbers.list(friendly_name=marker, limit=1)
    except (TwilioException, requests.RequestException, ImproperlyConfigured) as error:
        raise _translate(error) from error
    if not found:
        return None
    return OwnedNumber(sid=found[0].sid, phone_number=found[0].phone_number)


def number_buy(*, phone_number: str, marker: str) -> OwnedNumber:
    """Buy `phone_number`, named `marker`, with its calls sent to our voice webhook."""
    try:
        bought = twilio_client().incoming_phone_numbers.create(
            phone_number=phone_number,
            friendly_name=marker,
            voice_url=webhook_url("subscriptions:twilio-voice"),
            voice_method="POST",
            status_callback=webhook_url("subscriptions:twilio-call-status"),
            status_callback_method="POST",
        )
    except (TwilioException, requests.RequestException, ImproperlyConfigured) as error:
        raise _translate(error) from error
    return OwnedNumber(sid=bought.sid, phone_number=bought.phone_number)


def number_release_at_provider(provider_id: str) -> None:
    """Give the number back to Twilio; one already gone (404) counts as released."""
    try:
        twilio_client().incoming_phone_numbers(provider_id).delete()
    except TwilioRestException as error:
        if error.status == 404:
            return
        raise _translate(error) from error
    except (TwilioException, requests.RequestException, ImproperlyConfigured) as error:
        raise _translate(error) from error


def recording_fetch(recording_url: str) -> tuple[bytes, str]:
    """The audio of a recording (MP3) and its type. Only Twilio's API (or the configured
    stand-in) is asked, with our account's credentials."""
    base = (settings.TWILIO_API_BASE or "").rstrip("/")
    if base and recording_url.startswith(TWILIO_API_ORIGIN):
        recording_url = base + recording_url[len(TWILIO_API_ORIGIN) :]
    allowed = [TWILIO_API_ORIGIN + "/"] + ([base + "/"] if base else [])
    if not any(recording_url.startswith(origin) for origin in allowed):
        raise NumberRefused(f"Not a Twilio recording address: {recording_url[:100]}")
    try:
        response = requests.get(
            recording_url + ".mp3",
            auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
            timeout=30,
        )
    except requests.RequestException as error:
        raise ProviderUnavailable(str(error)) from error
    if response.status_code >= 500 or response.status_code in (404, 429):
        # A recording is announced as soon as it exists; its media can lag a moment.
        raise ProviderUnavailable(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise NumberRefused(f"HTTP {response.status_code}")
    content = response.content[:RECORDING_MAX_BYTES]
    return content, response.headers.get("Content-Type", "audio/mpeg").split(";")[0]
