"""Twilio's voice and recording webhooks: signed requests only (403 records nothing), TwiML
for forwarding, ringing then voicemail, and no voicemail; one voicemail and one email per
recording, however often Twilio calls back."""

import datetime
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from organizations.scoping import tenant_scope
from outbox.models import OutboundMessage
from subscriptions.models import MemberFeatures, Plan, Subscription, Voicemail
from tests.factories import MemberFactory, UserFactory
from tests.subscriptions.twilio_fake import sign

pytestmark = pytest.mark.django_db

NUMBER = "+33159000009"
CALLER = "+33612345678"


def number_for(org, member, status=Subscription.Status.ACTIVE, phone=NUMBER, **extra):
    now = timezone.now()
    with tenant_scope(org):
        return Subscription.objects.create(
            organization=org,
            member=member,
            plan=Plan.objects.get(code="number-fr"),
            status=status,
            period_months=1,
            anchor_day=now.day,
            period_start=now,
            period_end=now + datetime.timedelta(days=30),
            phone_number=phone,
            provider_id="PN" + "7" * 32,
            **extra,
        )


def give_voicemail(org, member):
    now = timezone.now()
    with tenant_scope(org):
        return Subscription.objects.create(
            organization=org,
            member=member,
            plan=Plan.objects.get(code="voicemail"),
            status=Subscription.Status.ACTIVE,
            period_months=1,
            anchor_day=now.day,
            period_start=now,
            period_end=now + datetime.timedelta(days=30),
        )


def post(path, params, *, signed=True, query=""):
    """POST as Twilio does: the form, signed over SITE_URL + path (+ query)."""
    full = path + (f"?{query}" if query else "")
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = sign("https://portal.example.com" + full, params)
    return Client().post(full, params, headers=headers)


def call(params):
    return post("/twilio/voice/", {"CallSid": "CA1", "From": CALLER, "To": NUMBER, **params})


@pytest.fixture
def callee(org, twilio_numbers):
    member = MemberFactory(organization=org, user=UserFactory(language="fr"), phone="")
    number_for(org, member)
    return member


def test_a_bad_signature_is_refused_and_records_nothing(org, callee):
    params = {"CallSid": "CA1", "From": CALLER, "To": NUMBER}
    response = post("/twilio/voice/", params, signed=False)
    assert response.status_code == 403
    forged = Client().post(
        "/twilio/voice/", params, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    )
    assert forged.status_code == 403
    recording = {"RecordingSid": "RE1", "RecordingUrl": "https://api.twilio.com/x"}
    bad = Client().post(
        "/twilio/recording/?subscription=1",
        recording,
        headers={"X-Twilio-Signature": sign("https://portal.example.com/other/", recording)},
    )
    assert bad.status_code == 403
    with tenant_scope(org):
        assert Voicemail.objects.count() == 0


def test_a_call_is_forwarded_when_the_member_set_a_number(org, callee):
    with tenant_scope(org):
        MemberFeatures.objects.create(
            organization=org, member=callee, forwarding_number="+33700000001"
        )
    response = call({})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<Dial" in body
    assert "+33700000001</Dial>" in body
    assert 'action="https://portal.example.com/twilio/voice/"' in body


def test_a_call_rings_the_member_then_goes_to_voicemail(org, callee):
    with tenant_scope(org):
        callee.phone = "+33611111111"
        callee.save()
    give_voicemail(org, callee)
    rings = call({}).content.decode()
    assert "+33611111111</Dial>" in rings
    assert 'timeout="20"' in rings
    unanswered = call({"DialCallStatus": "no-answer"}).content.decode()
    assert "<Record" in unanswered
    assert 'language="fr-FR"' in unanswered
    assert "recordingStatusCallback=" in unanswered
    answered = call({"DialCallStatus": "completed"}).content.decode()
    assert "<Hangup" in answered
    assert "<Record" not in answered


def test_without_a_mobile_the_call_goes_straight_to_voicemail(org, callee):
    give_voicemail(org, callee)
    with tenant_scope(org):
        MemberFeatures.objects.create(organization=org, member=callee, greeting_text="Bonjour!")
    body = call({}).content.decode()
    assert "<Dial" not in body
    assert "Bonjour!</Say>" in body
    assert "<Record" in body


def test_an_uploaded_greeting_is_played_from_a_signed_url(org, callee):
    give_voicemail(org, callee)
    with tenant_scope(org):
        MemberFeatures.objects.create(
            organization=org,
            member=callee,
            greeting_audio=b"\xff\xfb\x90\x64" + b"\0" * 50,
            greeting_audio_type="audio/mpeg",
        )
    body = call({}).content.decode()
    start = body.index("<Play>") + len("<Play>")
    url = body[start : body.index("</Play>")]
    assert url.startswith("https://portal.example.com/twilio/greeting/")
    audio = Client().get(url.removeprefix("https://portal.example.com"))
    assert audio.status_code == 200
    assert audio["Content-Type"] == "audio/mpeg"
    assert Client().get("/twilio/greeting/forged-token/").status_code == 404


def test_without_voicemail_the_caller_hears_a_polite_message(org, callee):
    body = call({}).content.decode()
    assert "<Record" not in body
    assert "<Dial" not in body
    assert "<Say" in body
    assert "<Hangup" in body
    assert 'language="fr-FR"' in body


def test_a_calling_plan_with_voicemail_included_gives_voicemail(org, callee):
    now = timezone.now()
    with tenant_scope(org):
        Subscription.objects.create(
            organization=org,
            member=callee,
            plan=Plan.objects.get(code="world-1000-voicemail"),
            status=Subscription.Status.ACTIVE,
            period_months=1,
            anchor_day=now.day,
            period_start=now,
            period_end=now + datetime.timedelta(days=30),
        )
    assert "<Record" in call({}).content.decode()


def test_unknown_and_suspended_numbers_get_a_polite_message(org, twilio_numbers):
    unknown = post("/twilio/voice/", {"CallSid": "CA2", "From": CALLER, "To": "+33100000000"})
    assert unknown.status_code == 200
    assert "<Hangup" in unknown.content.decode()
    member = MemberFactory(organization=org)
    give_voicemail(org, member)
    number_for(org, member, status=Subscription.Status.SUSPENDED, phone="+33159000010")
    suspended = post("/twilio/voice/", {"CallSid": "CA3", "From": CALLER, "To": "+33159000010"})
    body = suspended.content.decode()
    assert "<Record" not in body
    assert "<Hangup" in body


def test_a_recording_twice_is_one_voicemail_and_one_email(
    org, callee, twilio_numbers, django_capture_on_commit_callbacks
):
    give_voicemail(org, callee)
    with tenant_scope(org):
        subscription = Subscription.objects.get(member=callee, plan__kind="number")
    params = {
        "RecordingSid": "RE" + "5" * 32,
        "RecordingUrl": twilio_numbers.recording_url("RE" + "5" * 32),
        "RecordingStatus": "completed",
        "RecordingDuration": "14",
        "CallSid": "CA1",
    }
    query = urlencode({"subscription": subscription.pk, "from": CALLER})
    mail.outbox.clear()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = post("/twilio/recording/", params, query=query)
        assert response.status_code == 204
    with tenant_scope(org):
        (voicemail,) = Voicemail.objects.all()
    assert voicemail.member == callee
    assert voicemail.caller == CALLER
    assert voicemail.duration == 14
    assert bytes(voicemail.audio).startswith(b"\xff\xfb")
    assert twilio_numbers.recording_fetches == ["RE" + "5" * 32]
    (email,) = mail.outbox
    assert email.to == [callee.user.email]
    assert CALLER in email.subject
    with tenant_scope(org):
        assert OutboundMessage.objects.get(to=callee.user.email).language == "fr"
    (attachment,) = email.attachments
    assert attachment[2] == "audio/mpeg"
    assert attachment[1].startswith(b"\xff\xfb")
