"""The monthly and annual report pages: who sees them, what they show, how they take odd
addresses, and how many queries they cost."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from members.models import ListMembership, MemberList
from tests.factories import MemberFactory
from tests.usage.support import call, fund, give, rate, sms
from usage.services.ingest import usage_records_ingest

NOW = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)


def month_url(org, **query):
    url = reverse("dashboard:report-month", kwargs={"org_slug": org.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def year_url(org, **query):
    url = reverse("dashboard:report-year", kwargs={"org_slug": org.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def spending(org, members):
    rate("33", "0.02", country="FR")
    fund(org, 500)
    for member in members:
        give(org, member, 20)
    usage_records_ingest(
        organization=org,
        records=[
            record for member in members for record in (call(member, seconds=300), sms(member))
        ],
    )


@pytest.fixture
def busy(org, finance, employee):
    with time_machine.travel(NOW, tick=False):
        spending(org, [employee])
    return org


@pytest.mark.parametrize("url", [month_url, year_url])
def test_finance_reads_the_reports(busy, finance, employee, login, url):
    employee.display_name = "Zoë 🚀 عربي " + "x" * 80
    employee.save()
    with time_machine.travel(NOW, tick=False):
        response = login(finance).get(url(busy))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Zoë 🚀 عربي" in page
    assert "Calls to France" in page
    assert 'id="chart-data-categories"' in page
    assert "Closing balance" in page


@pytest.mark.parametrize("url", [month_url, year_url])
def test_members_do_not_read_the_reports(busy, employee, login, url):
    response = login(employee).get(url(busy))
    assert response.status_code in (403, 404)


@pytest.mark.parametrize(
    "query",
    [
        {"month": "2026-13"},
        {"month": "abcd"},
        {"month": "99999-01"},
        {"month": "2026-11%00"},
        {"year": "99999"},
        {"list": "999999999999999999999"},
        {"list": "%F0%9F%9A%80"},
        {"department": "x" * 300},
        {"member": "-1"},
        {"member_q": "%D8%B9" * 60},
        {"category": "call:fr'--"},
        {"sort": "name;drop"},
        {"page": "0"},
        {"page": "99999999999"},
    ],
)
def test_odd_addresses_never_fail(busy, finance, login, query):
    client = login(finance)
    with time_machine.travel(NOW, tick=False):
        for url in (month_url, year_url):
            response = client.get(url(busy, **query))
            assert response.status_code == 200


def test_month_navigation_and_filters_stay_in_links(busy, finance, employee, login):
    sales = MemberList.objects.create(organization=busy, name="Sales")
    ListMembership.objects.create(organization=busy, member_list=sales, member=employee)
    with time_machine.travel(NOW, tick=False):
        response = login(finance).get(month_url(busy, month="2026-10", list=sales.pk))
    page = response.content.decode()
    assert f"month=2026-09&amp;list={sales.pk}" in page
    assert f"month=2026-11&amp;list={sales.pk}" in page
    # October had nothing: the tables say so.
    assert "Nothing in this period." in page


def test_queries_do_not_grow_with_members(org, finance, login, django_assert_max_num_queries):
    client = login(finance)
    with time_machine.travel(NOW, tick=False):
        spending(org, [MemberFactory(organization=org) for _ in range(3)])
        client.get(month_url(org))
        with django_assert_max_num_queries(25) as few:
            client.get(month_url(org))
        spending(org, [MemberFactory(organization=org) for _ in range(30)])
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(month_url(org))
        with django_assert_max_num_queries(25) as year:
            client.get(year_url(org))
    # Each detail list is counted, then its page read, once: drawing it reads nothing more.
    read = [query for query in year.captured_queries if 'FROM "credit_transfer"' in query["sql"]]
    assert len(read) == 2, read


def test_a_member_reads_only_their_own_spend(org, employee, login):
    colleague = MemberFactory(organization=org, display_name="Colleague Qwerty")
    with time_machine.travel(NOW, tick=False):
        spending(org, [employee, colleague])
        response = login(employee).get(reverse("dashboard:my-spend", kwargs={"org_slug": org.slug}))
    assert response.status_code == 200
    report = response.context["report"]
    assert set(report.tables) == {"summary", "by_category", "per_day"}
    # Their own usage only: one call and one message, not the colleague's.
    [calls, messages] = report.tables["by_category"].rows
    assert calls[1] == 1
    assert messages[1] == 1
    # Their wallet only: 20 allocated, less what they spent.
    closing = report.tables["summary"].totals[-1]
    assert closing == 20 - report.tables["by_category"].totals[4]
    page = response.content.decode()
    assert "Colleague Qwerty" not in page
    assert "Company balance" not in page


def test_my_spend_takes_odd_months(org, employee, login):
    url = reverse("dashboard:my-spend", kwargs={"org_slug": org.slug})
    for month in ("2026-00", "x", "2026-1", "1999-12", "🚀"):
        response = login(employee).get(url, {"month": month})
        assert response.status_code == 200
        assert "YYYY-MM" in response.content.decode()
