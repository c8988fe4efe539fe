"""A local Twilio for online numbers and prices, over real HTTP, for twilio-python and our
fetches: Calls/<sid>.json and Messages/<sid>.json (their price),
AvailablePhoneNumbers/<CC>/Local.json (AreaCode, Contains), IncomingPhoneNumbers.json (GET
by FriendlyName; POST buys, counted, can be told to refuse), IncomingPhoneNumbers/<sid>.json
DELETE (release), and Recordings/<sid>.mp3 (media). Also `sign`, which signs a webhook request
with twilio-python's own RequestValidator, as Twilio does."""

import json
import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest
from twilio.request_validator import RequestValidator

from tests.local_http import LocalHTTPServer

ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "numbers-token-for-tests"
# A few bytes that start like an MP3 frame: enough for "audio" in tests.
RECORDING_AUDIO = b"\xff\xfb\x90\x64" + b"\x00" * 400


class FakeTwilioNumbers:
    def __init__(self):
        # Numbers offered per country: {country: [(number, area code)]}.
        self.available = {
            "FR": [("+33159000001", "1"), ("+33159000002", "1"), ("+33491000003", "4")],
            "US": [("+14155550101", "415"), ("+14155550102", "415"), ("+12125550103", "212")],
        }
        self.owned: dict[str, dict] = {}
        self.purchases: list[dict] = []
        self.released: list[str] = []
        self.searches: list[dict] = []
        self.recording_fetches: list[str] = []
        # Twilio's price of calls and messages, by sid: (price, unit); a price of None is "not
        # priced yet". A sid not here is unknown (404).
        self.prices: dict[str, tuple[str | None, str]] = {}
        self.price_fetches: list[str] = []
        # Set to (status, code, message) to refuse the next purchases.
        self.refuse_purchase: tuple[int, int, str] | None = None
        # Drop the purchase's answer after buying (a worker killed mid-request, say).
        self.fail_after_buying = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: dict | bytes, content_type="application/json"):
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                url = urlparse(self.path)
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                available = re.search(r"/AvailablePhoneNumbers/([A-Z]{2})/Local\.json$", url.path)
                if available:
                    fake.searches.append({"country": available.group(1), **query})
                    found = [
                        number
                        for number, area in fake.available.get(available.group(1), [])
                        if number not in fake.owned_numbers
                        and (not query.get("AreaCode") or area == query["AreaCode"])
                        and (
                            not query.get("Contains")
                            or query["Contains"].replace("*", "") in number
                        )
                    ][: int(query.get("PageSize", 50))]
                    return self._send(
                        200,
                        {
                            "available_phone_numbers": [
                                {
                                    "phone_number": number,
                                    "friendly_name": number,
                                    "locality": "Paris" if number.startswith("+331") else "",
                                    "region": "",
                                    "iso_country": available.group(1),
                                }
                                for number in found
                            ],
                            "uri": url.path,
                            "end": len(found) - 1,
                            "next_page_uri": None,
                            "page": 0,
                            "page_size": len(found),
                        },
                    )
                if url.path.endswith("/IncomingPhoneNumbers.json"):
                    name = query.get("FriendlyName")
                    rows = [row for row in fake.owned.values() if row["friendly_name"] == name]
                    return self._send(
                        200,
                        {
                            "incoming_phone_numbers": rows,
                            "uri": url.path,
                            "next_page_uri": None,
                            "page": 0,
                            "page_size": len(rows),
                        },
                    )
                priced = re.search(r"/(Calls|Messages)/((?:CA|SM)\w+)\.json$", url.path)
                if priced:
                    sid = priced.group(2)
                    fake.price_fetches.append(sid)
                    if sid not in fake.prices:
                        return self._send(
                            404, {"code": 20404, "message": "Not found", "status": 404}
                        )
                    price, unit = fake.prices[sid]
                    return self._send(
                        200, {"sid": sid, "status": "completed", "price": price, "price_unit": unit}
                    )
                recording = re.search(r"/Recordings/(RE\w+)\.mp3$", url.path)
                if recording:
                    fake.recording_fetches.append(recording.group(1))
                    return self._send(200, RECORDING_AUDIO, content_type="audio/mpeg")
                return self._send(404, {"code": 20404, "message": "Not found", "status": 404})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not self.path.endswith("/IncomingPhoneNumbers.json"):
                    return self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                fake.purchases.append(form)
                if fake.refuse_purchase:
                    status, code, message = fake.refuse_purchase
                    return self._send(status, {"code": code, "message": message, "status": status})
                number = form["PhoneNumber"]
                sid = f"PN{len(fake.purchases):032d}"
                row = {
                    "sid": sid,
                    "phone_number": number,
                    "friendly_name": form.get("FriendlyName", number),
                    "voice_url": form.get("VoiceUrl"),
                    "status_callback": form.get("StatusCallback"),
                }
                fake.owned[sid] = row
                if fake.fail_after_buying:
                    fake.fail_after_buying -= 1
                    return self._send(503, {"code": 20503, "message": "Unavailable", "status": 503})
                return self._send(201, row)

            def do_DELETE(self):
                found = re.search(r"/IncomingPhoneNumbers/(PN\w+)\.json$", self.path)
                if not found or found.group(1) not in fake.owned:
                    return self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                fake.owned.pop(found.group(1))
                fake.released.append(found.group(1))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = LocalHTTPServer(Handler)
        self.url = self.http.url

    @property
    def owned_numbers(self) -> set[str]:
        return {row["phone_number"] for row in self.owned.values()}

    def recording_url(self, sid: str) -> str:
        """Where Twilio says a recording is (its API origin; the app rebases it)."""
        return f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"

    def close(self):
        self.http.close()


def sign(url: str, params: dict) -> str:
    """The X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


@pytest.fixture
def twilio_numbers(settings):
    """The fake on a local port; the app's Twilio client and SITE_URL set for it."""
    fake = FakeTwilioNumbers()
    settings.TWILIO_API_BASE = fake.url
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.SITE_URL = "https://portal.example.com"
    yield fake
    fake.close()
