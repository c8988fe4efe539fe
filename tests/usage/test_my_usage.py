"""A member's own usage: the Usage section of My account (balance, this month's spend from the
rollups, minutes left, latest calls and messages) and the full page, 25 a page by keyset,
narrowed by kind and month, dates in the organization's time zone."""

import datetime
import re
from datetime import UTC
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit.selectors.spending import local_month
from organizations.models import Organization
from subscriptions.models import Plan
from tests.factories import MemberFactory, SubscriptionFactory
from tests.usage.support import call, fund, give, sms
from usage.models import IncludedMinutes, UsageRecord
from usage.selectors.usage import (
    category_label,
    member_usage,
    member_usage_summary,
    minutes_left,
)
from usage.services.ingest import usage_records_ingest
from usage.templatetags.usage_tags import duration

NOW = datetime.datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _mid_march(time_machine):
    time_machine.move_to(NOW, tick=False)


def my_account(org) -> str:
    return f"/o/{org.slug}/me/"


def my_usage(org, query: str = "") -> str:
    return f"/o/{org.slug}/me/usage/" + (f"?{query}" if query else "")


def ingest(org, *records) -> list[UsageRecord]:
    outcomes = usage_records_ingest(organization=org, records=list(records))
    assert [outcome.status for outcome in outcomes] == ["created"] * len(records)
    return [outcome.record for outcome in outcomes]


def ago(minutes: int) -> datetime.datetime:
    return NOW - datetime.timedelta(minutes=minutes)


def record(org, member, minutes_ago: int, **fields) -> UsageRecord:
    """A call (or with kind="sms", a message) that started `minutes_ago`, recorded."""
    maker = sms if fields.pop("kind", "call") == "sms" else call
    [row] = ingest(org, maker(member, started_at=ago(minutes_ago), **fields))
    return row


def shown_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-record="(\d+)"', response.content.decode())]


def plan(code: str) -> Plan:
    return Plan.objects.get(code=code)


def test_my_account_shows_balance_spend_minutes_and_latest_records(org, employee, login):
    fund(org, 100)
    give(org, employee, 12)
    europe = SubscriptionFactory(organization=org, member=employee, plan=plan("europe-400"))
    [included] = ingest(org, call(employee, "+33 1 23 45 67 89", 90 * 60 + 20, started_at=ago(60)))
    assert included.subscription == europe
    assert included.cost == 0
    calls = ingest(
        org,
        *[
            call(employee, "+1 212 555 0100", cost=Decimal("0.25"), started_at=ago(minutes))
            for minutes in range(1, 6)
        ],
    )
    ingest(
        org, sms(employee, "+33 6 12 34 56 78", units=4, cost=Decimal("0.3"), started_at=ago(30))
    )
    colleague = MemberFactory(organization=org)
    ingest(org, call(colleague, "+44 20 7946 0000", started_at=ago(2)))

    response = login(employee).get(my_account(org))

    assert response.status_code == 200
    page = response.content.decode()
    section = page.split('id="usage"')[1].split("</section>")[0]
    assert "€10.45" in section, "the balance: 12 less 1.55"
    assert "€1.55" in section, "calls and messages this month, from the rollups"
    assert "Europe 400" in section
    assert "309 minutes left of 400 this month" in section, "400 min - 90:20 used"
    assert shown_ids(response) == [row.pk for row in calls], "the 5 latest, newest first"
    assert "+442079460000" not in page
    assert f"/o/{org.slug}/me/usage/" in section
    assert "once calling arrives" not in page


def test_the_page_lists_only_my_records_25_a_page_by_keyset(org, employee, login):
    mine = ingest(org, *[call(employee, started_at=ago(minutes)) for minutes in range(1, 61)])
    other = MemberFactory(organization=org)
    record(org, other, 2)
    client = login(employee)

    first = client.get(my_usage(org))
    assert first.status_code == 200
    assert shown_ids(first) == [row.pk for row in mine[:25]]
    older = re.search(r'href="\?before=([0-9_]+)" rel="next"', first.content.decode())
    second = client.get(my_usage(org, f"before={older[1]}"))
    assert shown_ids(second) == [row.pk for row in mine[25:50]]
    third_token = re.search(r'before=([0-9_]+)" rel="next"', second.content.decode())[1]
    third = client.get(my_usage(org, f"before={third_token}"))
    assert shown_ids(third) == [row.pk for row in mine[50:]]
    assert 'rel="next"' not in third.content.decode(), "no page after the last"
    newer = re.search(r'after=([0-9_]+)" rel="prev"', third.content.decode())[1]
    assert shown_ids(client.get(my_usage(org, f"after={newer}"))) == [row.pk for row in mine[25:50]]


def test_records_at_the_same_moment_are_paged_by_id(org, employee):
    same = sorted(
        (row.pk for row in ingest(org, *[call(employee, started_at=ago(5)) for _ in range(4)])),
        reverse=True,
    )
    page = member_usage(organization=org, member=employee, viewer=employee, size=3)
    assert [row.pk for row in page.records] == same[:3]
    rest = member_usage(
        organization=org, member=employee, viewer=employee, size=3, before=page.older
    )
    assert [row.pk for row in rest.records] == same[3:]


def test_filters_by_kind_and_month_in_the_organizations_time_zone(org, employee, login):
    Organization.objects.filter(pk=org.pk).update(time_zone="Pacific/Auckland")
    org.refresh_from_db()
    a_call = record(org, employee, 10)
    a_message = record(org, employee, 20, kind="sms", units=2)
    # 28 February 12:00 UTC is 1 March 01:00 in Auckland: March there.
    [first_of_march] = ingest(
        org, call(employee, started_at=datetime.datetime(2026, 2, 28, 12, 0, tzinfo=UTC))
    )
    client = login(employee)

    assert shown_ids(client.get(my_usage(org, "kind=sms"))) == [a_message.pk]
    assert shown_ids(client.get(my_usage(org, "kind=call&month=2026-03"))) == [
        a_call.pk,
        first_of_march.pk,
    ]
    assert shown_ids(client.get(my_usage(org, "month=2026-02"))) == []
    page = client.get(my_usage(org, "kind=sms")).content.decode()
    assert "2 messages" in page
    # Shown in Auckland's time: 28 Feb 12:00 UTC is 1 March 01:00 there.
    assert "03/01/2026" in client.get(my_usage(org, "month=2026-03")).content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "kind=voicemail",
        "month=2026-13",
        "month=1999-01",
        "month=march",
        "before=abc",
        "after=99999999999999999999_1",
        "before=1_x",
        "month=%00",
    ],
)
def test_odd_filters_say_so_and_show_the_newest(org, employee, login, query):
    row = record(org, employee, 1)
    response = login(employee).get(my_usage(org, query))
    assert response.status_code == 200
    assert shown_ids(response) == [row.pk]
    page = response.content.decode()
    assert "is-invalid" in page or "This link is out of date: the newest are shown." in page


def test_the_page_writes_nothing(org, employee, login):
    record(org, employee, 1)
    client = login(employee)
    client.get(my_usage(org))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(my_usage(org, "kind=call&month=2026-03")).status_code == 200
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    # The session's last activity may be saved; nothing of the organization's.
    assert [sql for sql in writes if "django_session" not in sql] == []


def test_a_record_shows_duration_cost_and_minutes_from_a_subscription(org, employee, login):
    europe = SubscriptionFactory(organization=org, member=employee, plan=plan("europe-400"))
    row = record(org, employee, 1, seconds=3725)
    assert row.subscription == europe
    assert row.included_seconds >= 3600
    page = login(employee).get(my_usage(org)).content.decode()
    assert "1:02:05" in page, "the duration"
    assert duration(row.included_seconds) in page, "the minutes from the subscription"
    assert "Europe 400" in page
    assert "€0.00" in page


def test_the_summary_reads_rollups_not_records(org, employee):
    fund(org, 100)
    ingest(
        org,
        call(employee, "+33 1 23 45 67 89", 60, cost=Decimal("1"), started_at=ago(10)),
        call(employee, "+33 1 23 45 67 80", 60, cost=Decimal("1"), started_at=ago(20)),
        call(employee, "+1 212 555 0100", 60, cost=Decimal("1"), started_at=ago(30)),
        sms(employee, units=5, cost=Decimal("0.5"), started_at=ago(40)),
        call(employee, cost=Decimal("7"), started_at=datetime.datetime(2026, 2, 27, tzinfo=UTC)),
    )

    with CaptureQueriesContext(connection) as queries:
        summary = member_usage_summary(organization=org, member=employee)

    assert str(summary.usage_spend) == "€3.50"
    assert str(summary.total) == "€3.50"
    assert (summary.calls, summary.call_seconds, summary.messages) == (3, 180, 5)
    assert [row.label for row in summary.categories] == [
        "Calls to France",
        "Calls to United States of America",
        "SMS",
    ]
    assert len(queries) == 1
    assert "usage_usagerecord" not in queries[0]["sql"], "totals never scan raw usage"


def test_category_labels():
    assert category_label("call:ZZ") == "Calls to other destinations"
    assert category_label("subscription") == "Calling subscriptions"
    assert category_label("number") == "Online numbers"


def test_minutes_left_per_calling_subscription_this_month(org, employee, other_org):
    europe = SubscriptionFactory(organization=org, member=employee, plan=plan("europe-400"))
    world = SubscriptionFactory(organization=org, member=employee, plan=plan("world-200"))
    unlimited = SubscriptionFactory(
        organization=org, member=employee, plan=plan("france-landlines-unlimited")
    )
    SubscriptionFactory(organization=org, member=employee, plan=plan("number-fr"))
    SubscriptionFactory(
        organization=org, member=employee, plan=plan("world-200"), status="cancelled"
    )
    month = local_month(org)
    IncludedMinutes.objects.create(
        organization=org, subscription=europe, month=month, used_seconds=600
    )
    IncludedMinutes.objects.create(
        organization=org, subscription=world, month=datetime.date(2026, 2, 1), used_seconds=9000
    )
    IncludedMinutes.objects.create(
        organization=org, subscription=world, month=month, used_seconds=200 * 60 + 5
    )

    rows = {row.subscription.pk: row for row in minutes_left(organization=org, member=employee)}

    assert set(rows) == {europe.pk, world.pk, unlimited.pk}
    assert (rows[europe.pk].left_seconds, rows[europe.pk].left_minutes) == (23400, 390)
    assert rows[world.pk].left_seconds == 0, "never below zero"
    assert rows[unlimited.pk].unlimited
    assert rows[unlimited.pk].left_seconds is None


def test_a_member_with_nothing_yet(org, employee, login):
    page = login(employee).get(my_account(org)).content.decode()
    assert "You have made no calls and sent no messages yet." in page
    assert "No calling subscription" in page
    page = login(employee).get(my_usage(org)).content.decode()
    assert "No calls or messages yet." in page
