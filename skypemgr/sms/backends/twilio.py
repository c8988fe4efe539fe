"""Sends through Twilio's Messages API.

`TWILIO_API_BASE` redirects the client's requests (tests point it at a local fake); the
request itself, its authentication and the error handling are twilio-python's own.
"""

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from skypemgr.sms import SmsError, SmsMessage
from skypemgr.sms.backends.base import BaseSmsBackend

TWILIO_API_ORIGIN = "https://api.twilio.com"


class RebasedHttpClient(TwilioHttpClient):
    """Sends Twilio's API requests to another origin."""

    def __init__(self, base: str, **kwargs):
        super().__init__(**kwargs)
        self.base = base.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API_ORIGIN):
            url = self.base + url[len(TWILIO_API_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        raise ImproperlyConfigured("Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to send SMS.")
    http_client = (
        RebasedHttpClient(settings.TWILIO_API_BASE, timeout=15)
        if (settings.TWILIO_API_BASE)
        else TwilioHttpClient(timeout=15)
    )
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


class SmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> str:
        sender = {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        if not settings.TWILIO_MESSAGING_SERVICE_SID:
            sender = {"from_": settings.TWILIO_FROM_NUMBER}
        try:
            sent = twilio_client().messages.create(to=message.to, body=message.body, **sender)
        except TwilioRestException as error:
            # 4xx means Twilio refused this message (bad number, unverified sender): retrying
            # cannot help. 429 and 5xx are Twilio's own trouble and may pass.
            permanent = 400 <= error.status < 500 and error.status != 429
            raise SmsError(error.msg or str(error), permanent=permanent) from error
        except (requests.RequestException, TwilioException) as error:
            raise SmsError(str(error), permanent=False) from error
        return sent.sid
