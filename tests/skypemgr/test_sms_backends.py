"""SMS backends; Twilio is replaced at the HTTP boundary by a local fake of its Messages API."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from skypemgr import sms
from skypemgr.sms.backends.console import SmsBackend as ConsoleBackend


class FakeTwilio:
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json like Twilio does."""

    def __init__(self):
        self.requests = []
        self.reply_status = 201
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(
                    {"path": self.path, "form": form, "auth": self.headers["Authorization"]}
                )
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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio()
    settings.TWILIO_API_BASE = fake.url
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token-for-tests"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    yield fake
    fake.close()


def test_twilio_sends_through_the_messages_api(twilio):
    sid = sms.send_sms("+33612345678", "Hello", backend="twilio")
    assert sid == "SM" + "0" * 31 + "1"
    request = twilio.requests[0]
    assert request["path"] == f"/2010-04-01/Accounts/{'AC' + '1' * 32}/Messages.json"
    assert request["form"] == {"To": ["+33612345678"], "Body": ["Hello"], "From": ["+15005550006"]}
    expected = base64.b64encode(f"{'AC' + '1' * 32}:token-for-tests".encode()).decode()
    assert request["auth"] == f"Basic {expected}"


def test_twilio_refusal_is_permanent(twilio):
    twilio.reply_status = 400
    with pytest.raises(sms.SmsError) as raised:
        sms.send_sms("+1", "Hello", backend="twilio")
    assert raised.value.permanent
    assert "not valid" in str(raised.value)


def test_twilio_outage_is_transient(twilio):
    twilio.reply_status = 503
    with pytest.raises(sms.SmsError) as raised:
        sms.send_sms("+33612345678", "Hello", backend="twilio")
    assert not raised.value.permanent


def test_twilio_unreachable_is_transient(settings, twilio):
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(sms.SmsError) as raised:
        sms.send_sms("+33612345678", "Hello", backend="twilio")
    assert not raised.value.permanent


def test_console_backend_prints():
    stream = io.StringIO()
    ConsoleBackend(stream=stream).send(sms.SmsMessage(to="+33612345678", body="Code 123456"))
    assert "+33612345678" in stream.getvalue()
    assert "Code 123456" in stream.getvalue()


def test_file_backend_writes_one_file_per_message(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path)
    sms.send_sms("+33612345678", "Code 123456", backend="file")
    [written] = tmp_path.iterdir()
    assert "Code 123456" in written.read_text()


def test_locmem_backend_collects(sms_outbox):
    sms.send_sms("+33612345678", "Hi")
    assert sms_outbox == [sms.SmsMessage(to="+33612345678", body="Hi")]


def test_backends_are_chosen_by_setting(settings):
    settings.SMS_BACKEND = "dummy"
    assert sms.send_sms("+33612345678", "Hi") == ""
    settings.SMS_BACKEND = "skypemgr.sms.backends.locmem.SmsBackend"
    assert sms.send_sms("+33612345678", "Hi").startswith("locmem-")
