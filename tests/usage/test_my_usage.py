"""A member's own usage: the Usage section of My account (balance, this month's spend from the
rollups, minutes left, latest calls and messages) and the full page, 25 a page by keyset,
narrowed by kind and month, dates in the organization's time zone."""

import datetime
import re
from datetime import UTC

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit.selectors.spending import local_month
from organizations.models import Organization
from subscriptions.models import Plan
from tests.credit.rules_support import fund, give
from tests.factories import MemberFactory, SubscriptionFactory, UsageRecordFactory
from tests.usage.support import rollup
from usage.models import IncludedMinutes
from usage.selectors.usage import member_usage, member_usage_summary, minutes_left

NOW = datetime.datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _mid_march(time_machine):
    time_machine.move_to(NOW, tick=False)


def my_account(org) -> str:
    return f"/o/{org.slug}/me/"


def my_usage(org, query: str = "") -> str:
    return f"/o/{org.slug}/me/usage/" + (f"?{query}" if query else "")


def record(org, member, minutes_ago: int, **fields):
    return UsageRecordFactory(
        organization=org,
        member=member,
        started_at=NOW - datetime.timedelta(minutes=minutes_ago),
        **fields,
    )


def shown_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-record="(\d+)"', response.content.decode())]


def plan(code: str) -> Plan:
    return Plan.objects.get(code=code)


def test_my_account_shows_balance_spend_minutes_and_latest_records(org, employee, login):
    fund(org, 100)
    give(org, employee, 12)
    rollup(org, employee, "1.2500", category="call:FR", quantity=300, records=3)
    rollup(org, employee, "0.3000", category="sms", quantity=4, records=4)
    europe = SubscriptionFactory(organization=org, member=employee, plan=plan("europe-400"))
    IncludedMinutes.objects.create(
        organization=org, subscription=europe, month=local_month(org), used_seconds=90 * 60 + 20
    )
    calls = [record(org, employee, minutes) for minutes in range(1, 8)]
    UsageRecordFactory(organization=org, destination="+44 20 7946 0000")  # someone else's

    response = login(employee).get(my_account(org))

    assert response.status_code == 200
    page = response.content.decode()
    section = page.split('id="usage"')[1].split("</section>")[0]
    assert "€12.00" in section, "balance"
    assert "€1.55" in section, "calls and messages this month, from the rollups"
    assert "Europe 400" in section
    assert "309 minutes left of 400 this month" in section, "400 min - 90:20 used"
    assert shown_ids(response) == [call.pk for call in calls[:5]], "the 5 latest, newest first"
    assert "+44 20 7946" not in page
    assert f"/o/{org.slug}/me/usage/" in section
    assert "to come" not in page
    assert "once calling arrives" not in page


def test_the_page_lists_only_my_records_25_a_page_by_keyset(org, employee, login):
    mine = [record(org, employee, minutes) for minutes in range(1, 61)]
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
    same = [record(org, employee, 5) for _ in range(4)]
    page = member_usage(organization=org, member=employee, viewer=employee, size=3)
    assert [row.pk for row in page.records] == [row.pk for row in same[::-1][:3]]
    rest = member_usage(
        organization=org, member=employee, viewer=employee, size=3, before=page.older
    )
    assert [row.pk for row in rest.records] == [same[0].pk]


def test_filters_by_kind_and_month_in_the_organizations_time_zone(org, employee, login):
    Organization.objects.filter(pk=org.pk).update(time_zone="Pacific/Auckland")
    call = record(org, employee, 10)
    sms = record(org, employee, 20, kind="sms", units=2, seconds=0)
    # 28 February 12:00 UTC is 1 March 01:00 in Auckland: March there.
    first_of_march = UsageRecordFactory(
        organization=org,
        member=employee,
        started_at=datetime.datetime(2026, 2, 28, 12, 0, tzinfo=UTC),
    )
    client = login(employee)

    assert shown_ids(client.get(my_usage(org, "kind=sms"))) == [sms.pk]
    assert shown_ids(client.get(my_usage(org, "kind=call&month=2026-03"))) == [
        call.pk,
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
    record(org, employee, 1, seconds=3725, included_seconds=3600, subscription=europe, cost=0)
    page = login(employee).get(my_usage(org)).content.decode()
    assert "1:02:05" in page, "the duration"
    assert "1:00:00" in page, "an hour from the subscription"
    assert "Europe 400" in page
    assert "€0.00" in page


def test_the_summary_reads_rollups_not_records(org, employee):
    record(org, employee, 1, cost="9.0000")  # a record without its rollup: not counted
    rollup(org, employee, "2.0000", category="call:FR", quantity=120, records=2)
    rollup(org, employee, "1.0000", category="call:US", quantity=60, records=1)
    rollup(org, employee, "0.5000", category="sms", quantity=5, records=5)
    rollup(org, employee, "3.0000", category="subscription", records=1)
    rollup(org, employee, "7.0000", category="call:FR", day=datetime.date(2026, 2, 28))

    summary = member_usage_summary(organization=org, member=employee)

    assert str(summary.usage_spend) == "€3.50"
    assert str(summary.total) == "€6.50"
    assert (summary.calls, summary.call_seconds, summary.messages) == (3, 180, 5)
    assert [row.label for row in summary.categories] == [
        "Calling subscriptions",
        "Calls to France",
        "Calls to United States of America",
        "SMS",
    ]


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
