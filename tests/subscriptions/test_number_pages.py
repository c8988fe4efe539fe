"""The pages: buying a number (search, preview, confirm once, short balance), the numbers
list, and a member's own phone settings and voicemails (bad input refused, others' rows 404)."""

import io
import uuid
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from djmoney.money import Money

from organizations.scoping import tenant_scope
from subscriptions.models import MemberFeatures, Subscription, Voicemail
from tests.credit.rules_support import balance_of, bought
from tests.factories import MemberFactory, VoicemailFactory

pytestmark = pytest.mark.django_db


def buy_url(org, page="buy"):
    return f"/o/{org.slug}/features/numbers/{page}/"


def form(member, **extra):
    return {
        "idempotency_key": str(uuid.uuid1()),
        "member": str(member.pk),
        "country": "FR",
        "area": "",
        "contains": "",
        "number": "any",
        "period": "1",
        **extra,
    }


def test_search_shows_the_numbers_offered(org, admin, login, twilio_numbers):
    client = login(admin)
    response = client.get(
        buy_url(org, "search"), {"country": "FR", "area": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b'value="+33159000001"' in response.content
    assert b"+33491000003" not in response.content
    odd = client.get(buy_url(org, "search"), {"country": "ZZ", "area": "<script>"})
    assert odd.status_code == 200
    assert b"not offered" in odd.content


def test_buying_a_number_previews_then_charges_once(
    org, owner, login, twilio_numbers, django_capture_on_commit_callbacks
):
    bought(org, owner, 50)
    employee = MemberFactory(organization=org)
    client = login(owner)
    assert client.get(buy_url(org)).status_code == 200
    data = form(employee, number="+33159000002")
    preview = client.post(buy_url(org), {**data, "step": "preview"})
    assert preview.status_code == 200
    assert b"+33159000002" in preview.content
    assert b'data-after="' in preview.content
    assert balance_of(org) == Money(50, "EUR")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(buy_url(org), {**data, "step": "confirm"})
        assert done.status_code == 302
    with tenant_scope(org):
        (subscription,) = Subscription.objects.filter(member=employee)
    assert subscription.status == "active"
    assert subscription.phone_number == "+33159000002"
    assert len(twilio_numbers.purchases) == 1
    listed = client.get(buy_url(org, "").rstrip("/").removesuffix("/") + "/")
    assert b"+33159000002" in listed.content


def test_a_short_balance_says_what_is_missing(org, owner, login, twilio_numbers):
    employee = MemberFactory(organization=org)
    response = login(owner).post(buy_url(org), {**form(employee), "step": "confirm"})
    assert response.status_code == 200
    assert b"data-missing=" in response.content
    assert f"/o/{org.slug}/credit/buy/".encode() in response.content
    with tenant_scope(org):
        assert not Subscription.objects.exists()
    assert twilio_numbers.purchases == []


@pytest.mark.parametrize(
    "bad",
    [
        {"number": "12345"},
        {"number": "<b>"},
        {"period": "3"},
        {"country": "XX"},
        {"member": "999999999"},
        {"member": "", "area": "abc"},
        {"idempotency_key": "not-a-key"},
    ],
)
def test_bad_input_is_refused_and_buys_nothing(org, owner, login, twilio_numbers, bad):
    bought(org, owner, 50)
    employee = MemberFactory(organization=org)
    response = login(owner).post(buy_url(org), {**form(employee), **bad, "step": "confirm"})
    assert response.status_code == 200
    with tenant_scope(org):
        assert not Subscription.objects.exists()
    assert balance_of(org) == Money(50, "EUR")


def test_one_chosen_number_cannot_go_to_several_members(org, owner, login, twilio_numbers):
    bought(org, owner, 50)
    people = MemberFactory.create_batch(2, organization=org)
    data = {**form(people[0], number="+33159000001"), "members": [p.pk for p in people]}
    response = login(owner).post(buy_url(org), {**data, "step": "confirm"})
    assert b"one member only" in response.content
    with tenant_scope(org):
        assert not Subscription.objects.exists()


def me(org, page):
    return f"/o/{org.slug}/me/{page}/"


def test_forwarding_is_validated_and_saved(org, employee, login):
    client = login(employee)
    client.post(me(org, "phone/forwarding"), {"forwarding_number": "not a number"})
    with tenant_scope(org):
        assert not MemberFeatures.objects.filter(member=employee).exists()
    client.post(me(org, "phone/forwarding"), {"forwarding_number": "+33612345678"})
    with tenant_scope(org):
        assert str(MemberFeatures.objects.get(member=employee).forwarding_number) == (
            "+33612345678"
        )
    page = client.get(f"/o/{org.slug}/me/")
    assert b'id="phone"' in page.content


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("greeting.mp3", b"<html><script>alert(1)</script></html>"),
        ("greeting.wav", b"RIFF\x10\x00\x00\x00WAVEjunkjunk"),
        ("greeting.mp3", b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\x00" * 20),
        ("big.mp3", b"\xff\xfb" + b"\x00" * (1024 * 1024 + 10)),
    ],
)
def test_crafted_greetings_are_refused(org, employee, login, name, content):
    response = login(employee).post(
        me(org, "phone/greeting"),
        {"greeting_text": "", "greeting_audio": SimpleUploadedFile(name, content)},
        follow=True,
    )
    assert response.status_code == 200
    assert b"alert-danger" in response.content or b"too large" in response.content
    with tenant_scope(org):
        assert not MemberFeatures.objects.filter(member=employee).exists()


def test_a_wav_greeting_is_kept(org, employee, login):
    login(employee).post(
        me(org, "phone/greeting"),
        {"greeting_text": "Bonjour", "greeting_audio": SimpleUploadedFile("g.wav", _wav())},
    )
    with tenant_scope(org):
        features = MemberFeatures.objects.get(member=employee)
    assert features.greeting_audio_type == "audio/wav"
    assert features.greeting_text == "Bonjour"


def test_caller_id_is_one_of_the_members_active_numbers(org, employee, login):
    from tests.subscriptions.test_voice_webhooks import number_for

    mine = number_for(org, employee, phone="+33159000021")
    theirs = number_for(org, MemberFactory(organization=org), phone="+33159000022")
    client = login(employee)
    client.post(me(org, "phone/caller-id"), {"caller_id": theirs.pk})
    with tenant_scope(org):
        assert not MemberFeatures.objects.filter(member=employee, caller_id__isnull=False).exists()
    client.post(me(org, "phone/caller-id"), {"caller_id": mine.pk})
    with tenant_scope(org):
        assert MemberFeatures.objects.get(member=employee).caller_id_id == mine.pk


def test_voicemails_are_the_members_own(org, employee, login):
    mine = VoicemailFactory(organization=org, member=employee)
    theirs = VoicemailFactory(organization=org)
    client = login(employee)
    audio = client.get(me(org, f"voicemails/{mine.pk}/audio"))
    assert audio.status_code == 200
    assert audio["Content-Type"] == "audio/mpeg"
    assert client.get(me(org, f"voicemails/{theirs.pk}/audio")).status_code == 404
    assert client.post(me(org, f"voicemails/{theirs.pk}/delete")).status_code == 404
    assert client.post(me(org, f"voicemails/{theirs.pk}/listened")).status_code == 404
    client.post(me(org, f"voicemails/{mine.pk}/listened"))
    assert client.get(me(org, f"voicemails/{mine.pk}/delete")).status_code == 200
    client.post(me(org, f"voicemails/{mine.pk}/delete"))
    with tenant_scope(org):
        gone = Voicemail.objects.get(pk=mine.pk)
        assert Voicemail.objects.get(pk=theirs.pk).deleted_at is None
    assert gone.listened
    assert gone.deleted_at is not None
    assert client.get(me(org, f"voicemails/{mine.pk}/audio")).status_code == 404


def test_without_a_telephony_provider_numbers_are_unavailable_and_nothing_is_charged(
    org, owner, login, settings
):
    """The demo of `make run` has no Twilio account: the page says numbers cannot be bought,
    the search says why instead of failing, and a confirmed form charges nothing."""
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    bought(org, owner, 50)
    employee = MemberFactory(organization=org)
    client = login(owner)
    page = client.get(buy_url(org))
    assert b'data-testid="numbers-unavailable"' in page.content
    search = client.get(
        buy_url(org, "search"), {"country": "FR", "area": "1"}, headers={"HX-Request": "true"}
    )
    assert search.status_code == 200
    assert b"no telephony provider" in search.content
    confirmed = client.post(buy_url(org), {**form(employee), "step": "confirm"})
    assert confirmed.status_code == 200
    assert b"no telephony provider" in confirmed.content
    with tenant_scope(org):
        assert not Subscription.objects.exists()
    assert balance_of(org) == Money(50, "EUR")
