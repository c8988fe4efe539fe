"""Twilio and members' calls: the outgoing-call webhook answers TwiML limited to what the member
may spend (or a refusal in their language); status callbacks are verified, recorded once per
CallSid or MessageSid however often and however concurrently they come, and debited."""

import threading
from decimal import Decimal
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client

from credit.models import Transfer
from tests.factories import MemberFactory, OrganizationFactory, UserFactory
from tests.subscriptions.twilio_fake import sign
from tests.usage.support import fund, give, rate, wallet_balance
from usage.models import CallReservation, UsageRecord
from usage.services.authorize import member_identity

SITE = "https://portal.example.com"


@pytest.fixture
def twilio_signed(twilio_numbers):
    """Twilio's account and SITE_URL set (the numbers fake sets both); signed requests."""
    return twilio_numbers


@pytest.fixture
def caller(org, twilio_signed):
    from usage.models import Rate

    Rate.objects.all().delete()
    rate("33", "0.02", country="FR")
    rate("44", "0.12", country="GB", increment="second")
    member = MemberFactory(organization=org, user=UserFactory(language="fr"))
    fund(org, 10)
    give(org, member, 1)
    return member


def post(path, params, *, signed=True, query=None):
    full = path + (f"?{urlencode(query)}" if query else "")
    headers = {"X-Twilio-Signature": sign(SITE + full, params)} if signed else {}
    return Client().post(full, params, headers=headers)


def dial_out(member, to="+447700900123", sid="CAparent1", **more):
    params = {"CallSid": sid, "From": f"client:{member_identity(member)}", "To": to, **more}
    return post("/twilio/outgoing/", params)


def twiml(response) -> ElementTree.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)  # noqa: S314 (our own answer, in a test)


def test_an_allowed_call_is_dialled_with_a_time_limit_to_the_second(org, caller):
    response = twiml(dial_out(caller))
    dial = response.find("Dial")
    # 1.00 at 0.12 a minute, per second after the first minute: 500 seconds.
    assert dial.get("timeLimit") == "500"
    number = dial.find("Number")
    assert number.text == "+447700900123"
    assert number.get("statusCallback").startswith(f"{SITE}/twilio/usage/call/?o={org.pk}")
    assert CallReservation.objects.for_org(org).get().reference == "CAparent1"


def test_a_refusal_is_spoken_in_the_member_language(org, caller, settings):
    response = twiml(dial_out(caller, to="+8613800000000"))
    say = response.find("Say")
    assert say.get("language") == "fr-FR"
    assert response.find("Hangup") is not None
    assert response.find("Dial") is None
    assert not CallReservation.objects.for_org(org).exists()


def test_unknown_callers_are_refused(org, caller):
    for sender in ["client:skypemgr-999999-1", f"client:skypemgr-{org.pk}-999999", "+3312"]:
        response = post("/twilio/outgoing/", {"CallSid": "CA9", "From": sender, "To": "+4477"})
        assert twiml(response).find("Dial") is None


def test_bad_signatures_are_refused_and_change_nothing(org, caller):
    params = {"CallSid": "CA1", "From": f"client:{member_identity(caller)}", "To": "+4477009001"}
    assert post("/twilio/outgoing/", params, signed=False).status_code == 403
    status = {
        "CallSid": "CAchild",
        "ParentCallSid": "CA1",
        "CallStatus": "completed",
        "CallDuration": "60",
        "To": "+447700900123",
    }
    query = {"o": org.pk, "m": caller.pk}
    assert post("/twilio/usage/call/", status, signed=False, query=query).status_code == 403
    forged = {"X-Twilio-Signature": sign(SITE + "/twilio/usage/call/?o=1&m=1", status)}
    response = Client().post(
        f"/twilio/usage/call/?o={org.pk}&m={caller.pk}", status, headers=forged
    )
    assert response.status_code == 403
    assert not CallReservation.objects.for_org(org).exists()
    assert not UsageRecord.objects.for_org(org).exists()


def completed(member, org, *, sid="CAchild1", seconds=61, **more):
    params = {
        "CallSid": sid,
        "ParentCallSid": "CAparent1",
        "CallStatus": "completed",
        "CallDuration": str(seconds),
        "To": "+447700900123",
        **more,
    }
    return post("/twilio/usage/call/", params, query={"o": org.pk, "m": member.pk})


def test_the_same_status_callback_five_times_records_and_debits_once(org, caller):
    dial_out(caller)
    for _ in range(5):
        assert completed(caller, org).status_code == 204
    record = UsageRecord.objects.for_org(org).get()
    assert (record.external_id, record.seconds, record.cost) == ("CAchild1", 61, Decimal("0.122"))
    assert Transfer.objects.for_org(org).filter(kind="usage").count() == 1
    assert wallet_balance(org, caller) == Decimal("0.878")
    assert CallReservation.objects.for_org(org).get().released_at is not None


def test_a_call_not_answered_costs_nothing_and_releases_its_hold(org, caller):
    dial_out(caller)
    params = {
        "CallSid": "CAchild2",
        "ParentCallSid": "CAparent1",
        "CallStatus": "no-answer",
        "CallDuration": "0",
        "To": "+447700900123",
    }
    post("/twilio/usage/call/", params, query={"o": org.pk, "m": caller.pk})
    assert not UsageRecord.objects.for_org(org).exists()
    assert CallReservation.objects.for_org(org).get().released_at is not None
    # The Dial's end releases it too (when the dialled leg never began).
    dial_out(caller, sid="CAparent3")
    post(
        "/twilio/outgoing/done/",
        {"CallSid": "CAparent3", "DialCallStatus": "failed"},
        query={"o": org.pk},
    )
    assert not CallReservation.objects.for_org(org).filter(released_at__isnull=True).exists()


def test_a_later_price_posts_one_adjustment(org, caller):
    dial_out(caller)
    completed(caller, org)
    for _ in range(3):
        completed(caller, org, Price="-0.20000", PriceUnit="EUR")
    completed(caller, org, Price="-0.90000", PriceUnit="EUR")
    completed(caller, org, Price="-5", PriceUnit="USD")
    record = UsageRecord.objects.for_org(org).get()
    assert (record.provider_cost, record.adjustment) == (Decimal("0.2"), Decimal("0.078"))
    assert Transfer.objects.for_org(org).filter(kind="adjustment").count() == 1
    assert wallet_balance(org, caller) == Decimal("0.8")


def test_messages_are_recorded_once_when_sent(org, caller):
    query = {"o": org.pk, "m": caller.pk, "r": "local-1"}
    for status in ["queued", "sent", "delivered", "delivered"]:
        params = {
            "MessageSid": "SM1",
            "MessageStatus": status,
            "To": "+447700900123",
            "NumSegments": "2",
        }
        post("/twilio/usage/sms/", params, query=query)
    record = UsageRecord.objects.for_org(org).get()
    assert (record.kind, record.units, record.cost) == ("sms", 2, Decimal("0.1"))
    failed = {"MessageSid": "SM2", "MessageStatus": "failed", "To": "+447700900123"}
    post("/twilio/usage/sms/", failed, query=query)
    assert UsageRecord.objects.for_org(org).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_callback_five_times_at_once_records_once(twilio_numbers):
    from usage.models import Rate

    Rate.objects.all().delete()
    rate("44", "0.12", country="GB", increment="second")
    org = OrganizationFactory()
    member = MemberFactory(organization=org)
    fund(org, 10)
    give(org, member, 1)
    barrier = threading.Barrier(5)
    codes = []

    def callback():
        barrier.wait()
        try:
            codes.append(completed(member, org).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=callback) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [204] * 5
    assert UsageRecord.objects.for_org(org).count() == 1
    assert Transfer.objects.for_org(org).filter(kind="usage").count() == 1
    assert wallet_balance(org, member) == Decimal("0.878")


def test_twilio_price_is_fetched_later_and_applied_once(
    org, caller, twilio_numbers, django_capture_on_commit_callbacks
):
    dial_out(caller)
    twilio_numbers.prices["CAchild1"] = ("-0.30000", "EUR")
    twilio_numbers.prices["CAchild2"] = (None, "EUR")
    with django_capture_on_commit_callbacks(execute=True):
        completed(caller, org)
        completed(caller, org)
        completed(caller, org, sid="CAchild2", seconds=10)
    assert twilio_numbers.price_fetches == ["CAchild1", "CAchild2"]
    first = UsageRecord.objects.for_org(org).get(external_id="CAchild1")
    assert (first.provider_cost, first.adjustment) == (Decimal("0.3"), Decimal("0.178"))
    # Not priced yet: nothing applied (the task asks again later).
    second = UsageRecord.objects.for_org(org).get(external_id="CAchild2")
    assert (second.provider_cost, second.adjustment) == (None, 0)
    assert Transfer.objects.for_org(org).filter(kind="adjustment").count() == 1
