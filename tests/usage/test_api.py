"""The call-record API (/api/v1/): batches answered record by record, idempotent by external id;
reading records a page at a time; keys, the rate limit and the audit trail; and a key of one
organization never reading or writing another's data."""

import datetime
import json
import socket
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from credit.models import Transfer
from organizations.models import AuditEvent, Member
from tests.factories import MemberFactory
from tests.tenancy import snapshot
from tests.usage.support import fund, give, rate, wallet_balance
from usage.models import UsageRecord
from usage.services.api_keys import api_key_create, api_key_revoke

USAGE = "/api/v1/usage"


@pytest.fixture
def rates(db):
    rate("33", "0.02", country="FR")
    rate("336", "0.15", country="FR", line_type="mobile")
    rate("49", "0.03", country="DE")


@pytest.fixture
def key(org, owner):
    return api_key_create(organization=org, actor=owner, name="Office PBX")


def client_for(plaintext: str, header: str = "Authorization") -> Client:
    value = f"Bearer {plaintext}" if header == "Authorization" else plaintext
    return Client(headers={header: value})


@pytest.fixture
def api(key, rates):
    return client_for(key[1])


@pytest.fixture
def ana(org):
    member = MemberFactory(
        organization=org,
        display_name="Ana Lima",
        email="ana@example.com",
        username="ana.lima",
        phone="+33612345678",
    )
    fund(org, 50)
    give(org, member, 20)
    return member


def minutes_ago(minutes: int) -> str:
    return (timezone.now() - datetime.timedelta(minutes=minutes)).isoformat()


def call(external_id, member=None, **more):
    return {
        "external_id": external_id,
        "member": more.pop("who", None) or {"id": member.pk},
        "kind": "call",
        "destination": "+33123456789",
        "started_at": minutes_ago(5),
        "seconds": 60,
        **more,
    }


def post(client, records, **kwargs):
    return client.post(USAGE, {"records": records}, content_type="application/json", **kwargs)


def statuses(response):
    return [(row["external_id"], row["status"]) for row in response.json()["records"]]


# --- Posting records --------------------------------------------------------------------------


def test_a_batch_is_answered_record_by_record_in_order(org, other_org, api, ana):
    sleeping = MemberFactory(organization=org, status=Member.Status.SUSPENDED)
    stranger = MemberFactory(organization=other_org, email="ana@example.com")
    records = [
        call("by-id", ana),
        call("by-email", who={"email": "ANA@example.com"}),
        call("by-username", who={"username": "Ana.Lima"}, seconds=0),
        call("by-phone", who={"phone": "06 12 34 56 78"}, destination="0612345678"),
        {**call("sms", ana, kind="sms"), "seconds": None, "units": 2},
        call("priced", ana, cost="0.5000", destination="+8613800000000"),
        call("nobody", who={"email": "nobody@example.com"}),
        call("stranger", stranger),
        call("sleeping", sleeping),
        call("no-offset", ana, started_at="2026-01-01T10:00:00"),
        call("two-ways", who={"id": ana.pk, "email": "ana@example.com"}),
        call("by-id", ana),
        call("bad-kind", ana, kind="fax"),
        call("no-duration", ana, seconds=None),
        call("bad-phone", who={"phone": "12"}),
        call("not-a-number", ana, destination="hello"),
        ["not", "an", "object"],
        {"member": {"id": ana.pk}},
    ]
    response = post(api, records)
    assert response.status_code == 200
    body = response.json()
    assert statuses(response) == [
        ("by-id", "created"),
        ("by-email", "created"),
        ("by-username", "created"),
        ("by-phone", "created"),
        ("sms", "created"),
        ("priced", "created"),
        ("nobody", "rejected"),
        ("stranger", "rejected"),
        ("sleeping", "rejected"),
        ("no-offset", "rejected"),
        ("two-ways", "rejected"),
        ("by-id", "duplicate"),
        ("bad-kind", "rejected"),
        ("no-duration", "rejected"),
        ("bad-phone", "rejected"),
        ("not-a-number", "rejected"),
        (None, "rejected"),
        (None, "rejected"),
    ]
    assert (body["created"], body["duplicate"], body["rejected"]) == (6, 1, 11)
    reasons = {row["external_id"]: row["reason"] for row in body["records"][6:16]}
    assert reasons["nobody"] == reasons["stranger"] == reasons["sleeping"] == "Unknown member."
    assert "started_at" in reasons["no-offset"]
    assert "exactly one" in reasons["two-ways"]
    assert "earlier in the batch" in reasons["by-id"]
    assert "kind" in reasons["bad-kind"]
    assert "duration" in reasons["no-duration"]
    assert "phone" in reasons["bad-phone"]
    assert "phone number" in reasons["not-a-number"]
    assert all(row["reason"] == "" for row in body["records"][:6])

    records = UsageRecord.objects.for_org(org).order_by("external_id")
    assert {record.member_id for record in records} == {ana.pk}
    assert all(record.source == "api" for record in records)
    priced = records.get(external_id="priced")
    assert (priced.cost, priced.provider_cost) == (Decimal("0.5"), Decimal("0.5"))
    assert records.get(external_id="sms").units == 2
    assert wallet_balance(org, ana) < 20


def test_sending_a_batch_again_records_and_debits_nothing_more(org, api, ana):
    batch = [call("c1", ana), call("c2", ana, seconds=600)]
    first = post(api, batch)
    assert statuses(first) == [("c1", "created"), ("c2", "created")]
    balance = wallet_balance(org, ana)
    again = post(api, batch)
    assert statuses(again) == [("c1", "duplicate"), ("c2", "duplicate")]
    assert all("already recorded" in row["reason"] for row in again.json()["records"])
    assert wallet_balance(org, ana) == balance
    assert UsageRecord.objects.for_org(org).count() == 2
    assert Transfer.objects.for_org(org).filter(kind="usage").count() == 2


def test_a_batch_of_1000_mixed_records_is_answered_per_record(org, api, ana):
    bob = MemberFactory(organization=org, email="bob@example.com")
    records, expected = [], []
    for n in range(1000):
        if n % 10 == 3:
            records.append(call(f"r{n}", who={"email": f"ghost{n}@example.com"}))
            expected.append("rejected")
        elif n % 10 == 6:
            records.append(call(f"r{n}", bob, started_at="yesterday"))
            expected.append("rejected")
        elif n % 10 == 9:
            records.append(call(f"r{n - 1}", bob))  # r8, r18, … came just before
            expected.append("duplicate")
        else:
            member = ana if n % 2 else bob
            records.append(call(f"r{n}", who={"email": member.email}, seconds=n % 300))
            expected.append("created")
    response = post(api, records)
    assert response.status_code == 200
    body = response.json()
    assert [row["status"] for row in body["records"]] == expected
    assert [row["external_id"] for row in body["records"]] == [r["external_id"] for r in records]
    assert (body["created"], body["duplicate"], body["rejected"]) == (700, 100, 200)
    assert UsageRecord.objects.for_org(org).count() == 700
    assert all(row["reason"] for row in body["records"] if row["status"] != "created")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"records": []}, 422, "from 1 to 1000 records"),
        ({"records": [{}] * 1001}, 422, "this one has 1001"),
        ({"records": "many"}, 422, "records"),
        ({}, 422, "records"),
        ([{"external_id": "x"}], 422, ""),
        ("not json {", 400, "JSON"),
    ],
)
def test_a_batch_of_the_wrong_shape_is_refused_whole(org, api, ana, body, status, words):
    data = body if isinstance(body, str) else json.dumps(body)
    response = api.post(USAGE, data, content_type="application/json")
    assert response.status_code == status
    error = response.json()
    assert error["message"]
    assert words in error["message"]
    assert not UsageRecord.objects.for_org(org).exists()


ODD = ["a\x00b", "x" * 1000, "\u202eevil\u202c مرحبا", "🙂👍🏽‍🧑‍💻", "-1", "9" * 40, "1e309", ""]


@pytest.mark.parametrize("field", ["external_id", "destination", "started_at", "seconds", "cost"])
def test_odd_values_reject_their_record_and_nothing_else(org, api, ana, field):
    records = [{**call(f"odd-{n}", ana), field: value} for n, value in enumerate(ODD)]
    records += [call(f"odd-member-{n}", who={"email": value}) for n, value in enumerate(ODD)]
    records.append(call("fine", ana))
    response = post(api, records)
    assert response.status_code == 200
    outcomes = response.json()["records"]
    assert outcomes[-1]["status"] == "created"
    for outcome in outcomes[:-1]:
        assert outcome["status"] in ("rejected", "created")
        if outcome["status"] == "rejected":
            assert outcome["reason"]
    created = {row["external_id"] for row in outcomes if row["status"] == "created"}
    assert set(UsageRecord.objects.for_org(org).values_list("external_id", flat=True)) == created


# --- Keys, rate limit, audit ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer smk_" + "A" * 43},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "not-a-key"},
        {"Authorization": "Bearer " + "x" * 10_000},
    ],
)
def test_a_missing_or_unknown_key_answers_401(org, key, ana, headers):
    client = Client(headers=headers)
    for response in (client.get(USAGE), post(client, [call("c1", ana)])):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert response.json()["message"]
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert not UsageRecord.objects.for_org(org).exists()
    assert not AuditEvent.objects.for_org(org).filter(verb="api_key.used").exists()


def test_a_revoked_key_is_refused(org, owner, key, rates, ana):
    row, plaintext = key
    client = client_for(plaintext)
    assert client.get(USAGE).status_code == 200
    api_key_revoke(organization=org, actor=owner, key=row)
    response = post(client, [call("c1", ana)])
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]
    assert not UsageRecord.objects.for_org(org).exists()


def test_the_key_may_come_in_x_api_key(org, key, rates, ana):
    response = post(client_for(key[1], "X-API-Key"), [call("c1", ana)])
    assert statuses(response) == [("c1", "created")]


def test_each_key_is_rate_limited_on_its_own(org, owner, key, rates, ana, settings):
    settings.API_RATE_LIMIT = 3
    client = client_for(key[1])
    for _ in range(3):
        assert client.get(USAGE).status_code == 200
    refused = post(client, [call("late", ana)])
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "3 requests a minute" in refused.json()["message"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert not UsageRecord.objects.for_org(org).exists()
    # Another key of the same organization has its own count.
    _other, plaintext = api_key_create(organization=org, actor=owner, name="Carrier")
    assert client_for(plaintext).get(USAGE).status_code == 200
    # Refusals are not audited; the three requests are.
    assert AuditEvent.objects.for_org(org).filter(verb="api_key.used").count() == 4


def test_without_redis_the_records_still_get_in(org, api, ana, settings, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed}/0"}
    }
    response = post(api, [call("c1", ana)])
    assert statuses(response) == [("c1", "created")]
    assert "rate limit not counted" in caplog.text


def test_every_request_is_audited_once_with_its_numbers(org, owner, key, api, ana, login):
    post(api, [call("c1", ana), call("c1", ana), call("bad", ana, kind="fax")])
    api.get(USAGE)
    api.get(f"{USAGE}/c1")
    api.get(f"{USAGE}/nothing-here")
    post(api, [])
    events = list(AuditEvent.objects.for_org(org).filter(verb="api_key.used").order_by("pk"))
    assert [(event.data["operation"], event.data["status"]) for event in events] == [
        ("usage.post", 200),
        ("usage.list", 200),
        ("usage.get", 200),
        ("usage.get", 404),
        ("usage.post", 422),
    ]
    first = events[0]
    assert (first.data["sent"], first.data["created"], first.data["duplicate"]) == (3, 1, 1)
    assert first.data["rejected"] == 1
    assert events[1].data["returned"] == 1
    assert first.actor is None
    assert first.target_id == str(key[0].pk)
    assert "Office PBX" in first.actor_label
    page = login(owner).get(f"/o/{org.slug}/settings/audit/").content.decode()
    assert "sent 3 usage records through the API: 1 recorded, 1 duplicate, and 1 rejected" in page
    assert "read 1 usage record through the API" in page


def test_answers_are_never_stored_by_caches(api, ana):
    for response in (post(api, [call("c1", ana)]), api.get(USAGE), Client().get(USAGE)):
        assert response["Cache-Control"] == "private, no-store"


# --- Reading records ---------------------------------------------------------------------------


def test_records_are_read_newest_first_a_page_at_a_time(org, api, ana):
    bob = MemberFactory(organization=org)
    base = (timezone.now() - datetime.timedelta(hours=3)).replace(microsecond=0)

    def at(minutes):
        return (base + datetime.timedelta(minutes=minutes)).isoformat()

    records = [call(f"c{n}", ana if n % 2 else bob, started_at=at(n)) for n in range(7)]
    records.append({**call("s1", ana, kind="sms", started_at=at(60)), "seconds": None})
    # Two at the same moment: the cursor tells them apart.
    records.append(call("same", bob, started_at=at(3)))
    post(api, records)
    seen, cursor = [], None
    while True:
        page = api.get(USAGE, {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["external_id"] for row in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["s1", "c6", "c5", "c4", "same", "c3", "c2", "c1", "c0"]

    def ids(**query):
        return [row["external_id"] for row in api.get(USAGE, query).json()["records"]]

    assert ids(member=bob.pk) == ["c6", "c4", "same", "c2", "c0"]
    assert ids(kind="sms") == ["s1"]
    assert ids(since=at(2), until=at(4)) == ["same", "c3", "c2"]
    row = api.get(USAGE, {"kind": "sms"}).json()["records"][0]
    assert row["member"] == {"id": ana.pk, "name": "Ana Lima"}
    assert (row["kind"], row["units"], row["source"], row["currency"]) == ("sms", 1, "api", "EUR")
    assert Decimal(row["cost"]) > 0


def test_any_iso_offset_is_taken_even_past_what_postgresql_stores(org, api, ana):
    # ISO 8601 allows offsets up to ±23:59; PostgreSQL only ±15:59 (schemathesis found it).
    started = (timezone.now() - datetime.timedelta(hours=2)).astimezone(
        datetime.timezone(datetime.timedelta(hours=17, minutes=44))
    )
    response = post(api, [call("far-east", ana, started_at=started.isoformat())])
    assert statuses(response) == [("far-east", "created")]
    assert UsageRecord.objects.for_org(org).get().started_at == started
    page = api.get(USAGE, {"until": "2082-07-09T17:37:36+17:44", "since": "2001-01-01T00:00-23:59"})
    assert [row["external_id"] for row in page.json()["records"]] == ["far-east"]


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzE0OjAwIiwgMV0"},
        {"cursor": "x" * 201},
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},
        {"until": "0001-01-01T00:00:00+14:00"},
        {"member": "9" * 40},
        {"member": "-1"},
        {"kind": "fax"},
        {"limit": "0"},
        {"limit": "1e309"},
        {"zz": "a\x00b"},
    ],
)
def test_bad_queries_answer_a_clear_error(api, ana, query):
    response = api.get(USAGE, query)
    if "zz" in query:
        assert response.status_code == 200
        return
    assert response.status_code in (400, 422)
    assert response.json()["message"]


def test_one_record_by_its_external_id(org, api, ana):
    post(api, [call("pbx/2026/1", ana, seconds=125)])
    row = api.get(f"{USAGE}/pbx/2026/1").json()
    assert (row["external_id"], row["seconds"], row["billed_seconds"]) == ("pbx/2026/1", 125, 180)
    for missing in ("nothing", "x" * 1000, "a%00b", "pbx/2026/1?source=twilio"):
        response = api.get(f"{USAGE}/{missing}")
        assert response.status_code == 404
        assert response.json()["message"]


# --- One organization's key, another organization's data --------------------------------------


def test_a_key_never_reads_or_writes_another_organizations_records(
    org, other_org, outsider, api, ana, rates
):
    theirs = MemberFactory(organization=other_org, email="ana@example.com", username="ana.lima")
    fund(other_org, 10)
    _key, their_plaintext = api_key_create(organization=other_org, actor=outsider, name="Theirs")
    their_api = client_for(their_plaintext)
    assert statuses(post(their_api, [call("secret", theirs, destination="+4930123456")])) == [
        ("secret", "created")
    ]
    before = snapshot(other_org)

    # Writing: their members are unknown here, whichever way they are named.
    response = post(
        api,
        [
            call("w1", theirs),
            call("w2", who={"username": "ana.lima"}),
            call("secret", ana),
        ],
    )
    assert statuses(response) == [("w1", "rejected"), ("w2", "created"), ("secret", "created")]
    assert set(UsageRecord.objects.for_org(org).values_list("member_id", flat=True)) == {ana.pk}

    # Reading: their records are invisible, even by external id or member id.
    listing = api.get(USAGE).json()["records"]
    assert {row["member"]["id"] for row in listing} == {ana.pk}
    assert api.get(USAGE, {"member": theirs.pk}).json()["records"] == []
    mine = api.get(f"{USAGE}/secret").json()
    assert mine["member"]["id"] == ana.pk
    assert snapshot(other_org) == before
    # And the other way round.
    assert their_api.get(f"{USAGE}/w2").status_code == 404
    assert their_api.get(f"{USAGE}/secret").json()["member"]["id"] == theirs.pk
