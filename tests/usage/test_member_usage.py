"""A member's usage as finance, admins and owners read it: a panel on the member's details
(this month's spend, latest calls and messages) and the full paged table for that member."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from organizations.models import Member
from organizations.roles import Role
from tests.factories import MemberFactory
from tests.usage.support import call, fund, give, rate, sms
from usage.services.ingest import usage_records_ingest


@pytest.fixture
def rates(db):
    rate("33", "0.02", country="FR")
    rate("44", "0.03", country="GB")


def ingest(org, *records):
    outcomes = usage_records_ingest(organization=org, records=list(records))
    assert [outcome.status for outcome in outcomes] == ["created"] * len(records)
    return [outcome.record for outcome in outcomes]


def detail_url(member) -> str:
    return f"/o/{member.organization.slug}/members/{member.pk}/"


def usage_url(member, query: str = "") -> str:
    return f"/o/{member.organization.slug}/members/{member.pk}/usage/" + (
        f"?{query}" if query else ""
    )


def shown_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-record="(\d+)"', page)]


def ago(minutes: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN, Role.OWNER])
def test_staff_see_the_usage_panel_on_member_details(org, employee, login, rates, role):
    fund(org, 50)
    give(org, employee, 20)
    records = ingest(
        org,
        *[
            call(employee, "+33 1 23 45 67 89", 60, cost=Decimal("0.02"), started_at=ago(n))
            for n in range(1, 7)
        ],
        sms(employee, "+44 7700 900123", units=2, cost=Decimal("0.1"), started_at=ago(30)),
    )
    reader = MemberFactory(organization=org, role=role)

    response = login(reader).get(detail_url(employee))

    assert response.status_code == 200
    page = response.content.decode()
    panel = page.split('id="usage"')[1].split("</section>")[0]
    assert "€0.22" in panel, "6 minutes at 0.02 and 2 SMS at 0.05 this month"
    assert "6 calls, 6:00" in panel
    assert "2 messages" in panel
    assert shown_ids(panel) == [record.pk for record in records[:5]]
    assert usage_url(employee).split("?")[0] in panel
    assert "once calling arrives" not in page


def test_the_member_page_lists_that_members_records_only(org, owner, employee, login, rates):
    fund(org, 50)
    mine = ingest(org, *[call(employee, started_at=ago(n)) for n in range(1, 31)])
    colleague = MemberFactory(organization=org)
    ingest(org, call(colleague, started_at=ago(2)))

    first = login(owner).get(usage_url(employee)).content.decode()
    assert shown_ids(first) == [record.pk for record in mine[:25]]
    token = re.search(r'before=([0-9_]+)" rel="next"', first)[1]
    second = login(owner).get(usage_url(employee, f"before={token}")).content.decode()
    assert shown_ids(second) == [record.pk for record in mine[25:]]
    assert employee.display_name in first


def test_a_former_members_usage_stays_readable(org, owner, employee, login, rates):
    [record] = ingest(org, call(employee))
    Member.objects.for_org(org).filter(pk=employee.pk).update(status=Member.Status.REMOVED)
    assert shown_ids(login(owner).get(usage_url(employee)).content.decode()) == [record.pk]


def test_members_cannot_read_someone_elses_usage(org, employee, login):
    colleague = MemberFactory(organization=org)
    assert login(employee).get(usage_url(colleague)).status_code == 403
    assert login(employee).get(usage_url(employee)).status_code == 403, "their own is at me/"
    assert login(employee).get(detail_url(colleague)).status_code == 403


def test_another_organizations_member_answers_404(org, owner, other_org, login, rates):
    stranger = MemberFactory(organization=other_org)
    ingest(other_org, call(stranger))
    response = login(owner).get(f"/o/{org.slug}/members/{stranger.pk}/usage/")
    assert response.status_code == 404
    assert login(owner).get(f"/o/{org.slug}/members/999999/usage/").status_code == 404


def test_the_panel_with_no_usage_yet(org, finance, employee, login):
    page = login(finance).get(detail_url(employee)).content.decode()
    panel = page.split('id="usage"')[1].split("</section>")[0]
    assert "No calls or messages yet." in panel
    assert "€0.00" in panel


def test_a_record_priced_by_the_source_shows_its_cost(org, owner, employee, login, rates):
    fund(org, 50)
    ingest(org, call(employee, seconds=125, cost=Decimal("1.2345")))
    page = login(owner).get(usage_url(employee)).content.decode()
    assert "2:05" in page
    assert "€1.23" in page
