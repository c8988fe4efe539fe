"""SMS backends; Twilio is replaced at the HTTP boundary by a local fake of its Messages API."""

import base64
import io

import pytest

from skypemgr import sms
from skypemgr.sms.backends.console import SmsBackend as ConsoleBackend


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
