"""Usage alerts after usage is recorded: 80% and 100% of the monthly cap and a balance that
reached zero (to the member and the managers), unusual spend (to the managers, at most once a
day); each sent once, in each recipient's language, whatever the number of checks."""

import datetime
import threading
from datetime import UTC
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from credit.services.caps import member_spending_cap_set
from organizations.models import Member
from organizations.roles import Role
from tests.credit.rules_support import emails
from tests.factories import MemberFactory, UserFactory
from tests.usage.support import call, fund, give, rate
from usage.models import UsageAlert, UsageSettings
from usage.services.alerts import usage_alerts_check
from usage.services.ingest import usage_records_ingest

NOW = datetime.datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _mid_march(time_machine, db):
    time_machine.move_to(NOW, tick=False)
    rate("33", "0.02", country="FR")


@pytest.fixture
def spend(org, django_capture_on_commit_callbacks):
    """Record a call of `cost` by `member` and run what its commit schedules (the alerts task,
    eagerly), as the ingestion does in production."""

    def _spend(member, cost, *, days_ago=0):
        started = timezone.now() - datetime.timedelta(days=days_ago, minutes=5)
        with django_capture_on_commit_callbacks(execute=True):
            [outcome] = usage_records_ingest(
                organization=org,
                records=[call(member, cost=Decimal(str(cost)), started_at=started)],
            )
        assert outcome.status == "created"

    return _spend


def alerts(org, kind=None) -> list[tuple[int, str, datetime.date]]:
    rows = UsageAlert.objects.for_org(org).order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    return [(row.member_id, row.kind, row.period) for row in rows]


def sent_to(org, audience: str) -> list[str]:
    """Addresses of the alerts' emails to `audience` ("member" or "managers"), in order."""
    return [message.to for message in emails(f":{audience}:to:")]


def capped(org, admin, member, cap):
    member_spending_cap_set(organization=org, actor=admin, member=member, cap=str(cap))


def test_80_then_100_percent_of_the_cap_each_once(org, owner, admin, finance, employee, spend):
    fund(org, 100)
    give(org, employee, 50)
    capped(org, admin, employee, 10)

    spend(employee, 7)
    assert alerts(org) == [], "70%"

    spend(employee, 1)
    assert alerts(org) == [(employee.pk, "cap_80", datetime.date(2026, 3, 1))]
    assert sent_to(org, "member") == [employee.email]
    assert sorted(sent_to(org, "managers")) == sorted([owner.email, admin.email]), "no finance"
    [mail] = emails(":member:to:")
    assert "80% of your monthly spending cap" in mail.subject
    assert "€8.00" in mail.body
    assert "€10.00" in mail.body
    assert f"/o/{org.slug}/me/usage/" in mail.body

    spend(employee, "0.5")
    assert usage_alerts_check(organization=org, member_ids=[employee.pk]) == 0
    assert usage_alerts_check(organization=org, member_ids=[employee.pk]) == 0
    assert len(emails("usage:alert:")) == 3, "still 85%: nothing new, however often checked"

    spend(employee, 2)
    assert [kind for _member, kind, _period in alerts(org)] == ["cap_80", "cap_100"]
    [_, reached] = emails(":member:to:")
    assert "reached your monthly spending cap" in reached.subject
    managers = [mail for mail in emails(":managers:to:") if "reached" in mail.subject]
    assert len(managers) == 2
    assert employee.display_name in managers[0].subject
    assert f"/o/{org.slug}/members/{employee.pk}/usage/" in managers[0].body
    assert f"/o/{org.slug}/members/{employee.pk}/credit/" in managers[0].body

    spend(employee, 3)
    assert len(emails("usage:alert:")) == 6, "the cap is told once a month"


def test_a_jump_past_the_cap_sends_only_the_100_percent_alert(org, owner, admin, employee, spend):
    fund(org, 100)
    give(org, employee, 50)
    capped(org, admin, employee, 10)
    spend(employee, 12)
    assert {kind for _member, kind, _period in alerts(org)} == {"cap_80", "cap_100"}
    subjects = [mail.subject for mail in emails("usage:alert:")]
    assert len(subjects) == 3
    assert all("reached" in subject for subject in subjects)


def test_the_cap_counts_this_months_usage_only(org, admin, employee, spend, time_machine):
    fund(org, 100)
    give(org, employee, 50)
    capped(org, admin, employee, 10)
    spend(employee, 9, days_ago=20)  # February
    spend(employee, 1)
    assert alerts(org) == []


def test_the_balance_reaching_zero_is_told_once_that_day(
    org, owner, admin, employee, spend, time_machine
):
    fund(org, 100)
    give(org, employee, 5)
    spend(employee, 3)
    assert alerts(org) == []
    spend(employee, 4)  # 2 from the wallet, 2 from the company
    assert alerts(org) == [(employee.pk, "zero", datetime.date(2026, 3, 15))]
    [mail] = emails(":member:to:")
    assert "your balance is at zero" in mail.subject
    assert len(emails(":managers:to:")) == 2
    spend(employee, 1)
    assert len(alerts(org)) == 1, "still at zero: told once"

    time_machine.move_to(NOW + datetime.timedelta(days=1), tick=False)
    spend(employee, 1)
    assert len(alerts(org)) == 1, "the company pays now; the wallet did not reach zero today"


def test_a_wallet_empty_all_along_is_not_news(org, owner, employee, spend):
    fund(org, 100)
    spend(employee, 2)
    assert alerts(org) == []


def test_unusual_spend_tells_the_managers_at_most_once_a_day(
    org, owner, admin, finance, employee, spend, time_machine
):
    fund(org, 500)
    give(org, employee, 200)
    spend(employee, 30, days_ago=10)  # 1.00 a day on average over the last 30 days
    spend(employee, 4)
    assert alerts(org) == [], "4 is not more than 5 times 1"
    spend(employee, "1.5")
    assert alerts(org) == [(employee.pk, "unusual", datetime.date(2026, 3, 15))]
    assert sent_to(org, "member") == [], "the managers only"
    assert sorted(sent_to(org, "managers")) == sorted([owner.email, admin.email])
    [mail, _] = emails(":managers:to:")
    assert "unusual spend" in mail.subject
    assert "€5.50" in mail.body
    assert "€1.00" in mail.body
    assert "more than 5 times" in mail.body

    spend(employee, 10)
    assert len(alerts(org)) == 1, "once a day"

    time_machine.move_to(NOW + datetime.timedelta(days=1), tick=False)
    spend(employee, 2)
    assert len(alerts(org)) == 1, "2 is not unusual against 1.52 a day"
    spend(employee, 8)
    assert [kind for _member, kind, _period in alerts(org)] == ["unusual", "unusual"]


def test_the_unusual_spend_factor_is_the_organizations(org, owner, employee, spend):
    UsageSettings.objects.for_org(org).update(unusual_spend_factor=20)
    fund(org, 500)
    give(org, employee, 200)
    spend(employee, 30, days_ago=10)
    spend(employee, 15)
    assert alerts(org) == []
    spend(employee, 6)
    assert [kind for _member, kind, _period in alerts(org)] == ["unusual"]


def test_no_history_no_unusual_spend(org, owner, employee, spend):
    fund(org, 500)
    give(org, employee, 200)
    spend(employee, 50)
    assert alerts(org) == [], "a first day has no average to compare with"


def test_each_recipient_reads_the_alert_in_their_language(org, admin, spend):
    french = MemberFactory(organization=org, user=UserFactory(language="fr"))
    owner = MemberFactory(organization=org, role=Role.OWNER, user=UserFactory(language="en"))
    fund(org, 100)
    give(org, french, 50)
    capped(org, admin, french, 10)
    spend(french, 8)
    [to_member] = emails(":member:to:")
    assert to_member.language == "fr"
    assert to_member.body.startswith("Bonjour,")
    assert "8,00\xa0€" in to_member.body
    to_owner = next(mail for mail in emails(":managers:to:") if mail.to == owner.email)
    assert to_owner.language == "en"
    assert to_owner.body.startswith("Hello,")
    assert "€8.00" in to_owner.body


def test_a_manager_over_their_cap_gets_one_email(org, owner, admin, spend):
    fund(org, 100)
    give(org, admin, 50)
    capped(org, owner, admin, 10)
    spend(admin, 8)
    assert sent_to(org, "member") == [admin.email]
    assert sent_to(org, "managers") == [owner.email], "not a second one as a manager"


def test_members_of_another_organization_are_ignored(org, other_org, owner):
    stranger = MemberFactory(organization=other_org)
    assert usage_alerts_check(organization=org, member_ids=[stranger.pk, 999999]) == 0
    assert usage_alerts_check(organization=org, member_ids=[]) == 0


def test_former_members_alerts_reach_the_managers_only(org, owner, admin, employee, spend):
    fund(org, 100)
    give(org, employee, 50)
    capped(org, admin, employee, 10)
    Member.objects.for_org(org).filter(pk=employee.pk).update(status=Member.Status.REMOVED)
    spend(employee, 9)
    assert sent_to(org, "member") == []
    assert len(sent_to(org, "managers")) == 2


@pytest.mark.django_db(transaction=True)
def test_two_checks_at_once_send_once(org, owner, admin, employee):
    fund(org, 100)
    give(org, employee, 50)
    # 90% of the cap set afterwards: the ingestion's own check (run at its commit) had no cap
    # to compare with, and the alert is still to send.
    usage_records_ingest(organization=org, records=[call(employee, cost=Decimal(9))])
    capped(org, admin, employee, 10)
    assert alerts(org) == []
    barrier = threading.Barrier(4)
    results = []

    def check():
        try:
            barrier.wait()
            results.append(usage_alerts_check(organization=org, member_ids=[employee.pk]))
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert len(alerts(org)) == 1
    assert len(emails("usage:alert:")) == 3
