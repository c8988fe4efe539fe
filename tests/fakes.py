"""Local stand-ins for outside services, reached over real HTTP by the real client libraries."""

import json
import socket
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from tests.local_http import LocalHTTPServer


class FakeTwilio:
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json like Twilio does."""

    def __init__(self):
        self.requests = []
        self.reply_status = 201
        # How many of the next requests are dropped without an answer, like a network fault.
        self.drop_next = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                form = parse_qs(self.rfile.read(length).decode())
                dropped = fake.drop_next > 0
                fake.requests.append(
                    {
                        "path": self.path,
                        "form": form,
                        "auth": self.headers["Authorization"],
                        "status": "dropped" if dropped else fake.reply_status,
                    }
                )
                if dropped:
                    fake.drop_next -= 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fake.reply_status == 201:
                    body = {"sid": f"SM{len(fake.requests):032d}", "status": "queued"}
                else:
                    body = {
                        "code": 21211,
                        "message": "The 'To' number is not valid.",
                        "status": fake.reply_status,
                    }
                payload = json.dumps(body).encode()
                self.send_response(fake.reply_status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.http = LocalHTTPServer(Handler)
        self.url = self.http.url

    @property
    def accepted(self) -> list[dict]:
        """The messages Twilio took on (answered 201)."""
        return [request for request in self.requests if request["status"] == 201]

    def close(self):
        self.http.close()


@pytest.fixture
def twilio(settings):
    """Twilio's Messages API on a local port; the app's Twilio client is pointed at it."""
    fake = FakeTwilio()
    settings.TWILIO_API_BASE = fake.url
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token-for-tests"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    yield fake
    fake.close()
