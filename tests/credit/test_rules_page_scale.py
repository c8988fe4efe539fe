"""The credit rules page at scale: how many members each rule applies to, counted by the
database with the precedence `rules_by_member` applies; this month's automatic recharges read
from their own indexed rows (CreditRuleRecharge), never by matching transfers' keys; no
select of every member; and a number of queries that does not grow with the organization."""

import importlib
from collections import Counter
from datetime import date

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit.models import CreditRule, CreditRuleRecharge, Transfer
from credit.selectors.rules import (
    AUTO_KINDS,
    MONTHLY_KINDS,
    credit_rules_overview,
    member_recharged,
    rule_member_counts,
    rules_by_member,
)
from credit.selectors.spending import local_month
from credit.services import ledger, rules
from credit.services.allocation import credit_allocate
from credit.services.rules.recharge import member_auto_recharges
from members.services.lists import list_add_members
from organizations.models import Member
from organizations.scoping import all_tenants
from tests.credit.rules_support import company, fund, money, rule, utc
from tests.factories import MemberFactory, MemberListFactory


def rules_url(org) -> str:
    return f"/o/{org.slug}/credit/rules/"


@pytest.fixture
def crowd(org, owner):
    """Thirty members in three overlapping lists, a few suspended or gone; rules of both
    families for everyone, two lists (one paused) and two members."""
    people = MemberFactory.create_batch(30, organization=org)
    lists = MemberListFactory.create_batch(3, organization=org)
    for member_list, chosen in zip(lists, (people[:12], people[8:20], people[15:29]), strict=True):
        list_add_members(organization=org, actor=owner, member_list=member_list, members=chosen)
    for person in people[25:28]:
        person.status = Member.Status.SUSPENDED
        person.save()
    people[28].status = Member.Status.REMOVED
    people[28].save()
    rule(org, amount=5, threshold=2, monthly_max=20)
    rule(org, amount=5, threshold=2, monthly_max=20, member_list=lists[1])
    rule(org, amount=5, threshold=2, monthly_max=20, member_list=lists[0])
    rule(org, amount=5, threshold=2, monthly_max=20, member=people[9])
    rule(org, "monthly_add", amount=3, member_list=lists[2])
    rule(org, "monthly_add", amount=3, member_list=lists[0], active=False)
    rule(org, "monthly_top_up", amount=3, member=people[16])
    rule(org, "monthly_top_up", amount=3, member=people[27])
    return people


def test_the_counts_follow_the_precedence(org, crowd):
    expected = Counter()
    for kinds in (AUTO_KINDS, MONTHLY_KINDS):
        expected.update(rule.pk for rule in rules_by_member(organization=org, kinds=kinds).values())
    counts = rule_member_counts(organization=org)
    assert {pk: count for pk, count in counts.items() if count} == dict(expected)
    assert len(expected) == 6, "every kind of target is counted"
    paused = CreditRule.objects.for_org(org).get(active=False)
    assert paused.pk not in counts


def test_the_page_counts_without_reading_every_member(org, owner, crowd, login):
    page = login(owner).get(rules_url(org))
    counts = {row.rule.pk: row.members for row in page.context["overview"].rules}
    everyone = rules_by_member(organization=org, kinds=AUTO_KINDS)
    assert sum(counts[pk] for pk in {rule.pk for rule in everyone.values()}) == len(everyone)


def test_no_select_of_every_member_on_the_page(org, owner, crowd, login):
    html = login(owner).get(rules_url(org)).content.decode()
    form = html.split('id="add-rule"')[1]
    assert not [person for person in crowd[:25] if f'value="{person.pk}"' in form]
    assert 'name="member_q"' in form


def test_recharges_are_recorded_with_their_transfer(org, owner, employee, time_machine):
    time_machine.move_to(utc(2026, 3, 10, 9), tick=False)
    fund(org, 100)
    everyone = rule(org, amount=10, threshold=5, monthly_max=25)
    first = rules.member_auto_recharge(organization=org, member=employee)
    ledger.transfer_post(
        organization=org, actor=None, source=ledger.member_wallet(org, employee),
        destination=company(org), amount=10, kind="take_back", idempotency_key="spent",
    )  # fmt: skip
    second = rules.member_auto_recharge(organization=org, member=employee)
    recorded = list(CreditRuleRecharge.objects.for_org(org).order_by("number"))
    assert [(r.rule, r.member, r.month, r.number, r.transfer) for r in recorded] == [
        (everyone, employee, date(2026, 3, 1), 1, first.transfer),
        (everyone, employee, date(2026, 3, 1), 2, second.transfer),
    ]
    assert member_recharged(
        organization=org, rule=everyone, month=date(2026, 3, 1), member_id=employee.pk
    ) == (2, money(org, 20))


def test_a_transfer_whose_key_looks_like_a_recharge_is_not_one(org, owner, employee, login):
    """Recharges are their own rows: no key is matched with LIKE '%…%' any more."""
    fund(org, 100)
    everyone = rule(org, amount=10, threshold=5, monthly_max=30)
    month = local_month(org)
    ledger.transfer_post(
        organization=org, actor=None, source=company(org),
        destination=ledger.member_wallet(org, employee), amount=7, kind="allocation",
        idempotency_key=f"rule:{everyone.pk}:auto:{month:%Y-%m}:member:{employee.pk}:9",
    )  # fmt: skip
    overview = credit_rules_overview(organization=org)
    assert overview.recharges.count() == 0
    assert member_recharged(
        organization=org, rule=everyone, month=month, member_id=employee.pk
    ) == (0, money(org, 0))
    page = login(owner).get(rules_url(org)).content.decode()
    assert "No automatic recharge this month." in page


def test_this_months_recharges_a_page_at_a_time_largest_first(org, owner, login):
    fund(org, 10_000)
    people = MemberFactory.create_batch(55, organization=org)
    everyone = rule(org, amount=1, threshold=50, monthly_max=5)
    ids = [person.pk for person in people]
    member_auto_recharges(organization=org, member_ids=ids)
    member_auto_recharges(organization=org, member_ids=ids[:3])
    client = login(owner)
    first = client.get(rules_url(org))
    rows = list(first.context["page"].object_list)
    assert len(rows) == 50
    assert [row.count for row in rows[:4]] == [2, 2, 2, 1]
    assert {row.member for row in rows[:3]} == set(people[:3])
    assert rows[0].rule == everyone
    assert first.context["page"].paginator.count == 55
    second = client.get(rules_url(org), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    overview_row = next(row for row in first.context["overview"].rules if row.rule == everyone)
    assert (overview_row.recharges, overview_row.recharged) == (58, money(org, 58))


def test_a_deleted_rules_recharges_stay_listed(org, owner, employee, login):
    fund(org, 100)
    gone = rule(org, amount=10, threshold=5, monthly_max=30)
    rules.member_auto_recharge(organization=org, member=employee)
    rules.credit_rule_delete(organization=org, actor=owner, rule=gone)
    [row] = credit_rules_overview(organization=org).recharges[0:10]
    assert (row.member, row.rule, row.count) == (employee, None, 1)
    assert "By a rule since deleted" in login(owner).get(rules_url(org)).content.decode()


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_queries_do_not_grow_with_the_organization(
    org, owner, crowd, login, django_assert_max_num_queries
):
    fund(org, 10_000)
    client = login(owner)
    member_auto_recharges(organization=org, member_ids=[crowd[0].pk])
    small = _queries(client, rules_url(org))
    more = MemberFactory.create_batch(40, organization=org)
    lists = MemberListFactory.create_batch(5, organization=org)
    for member_list in lists:
        list_add_members(organization=org, actor=owner, member_list=member_list, members=more)
        rule(org, amount=1, threshold=50, monthly_max=5, member_list=member_list)
    credit_allocate(organization=org, actor=owner, members=more, amount=1, idempotency_key="x")
    member_auto_recharges(organization=org, member_ids=[person.pk for person in more + crowd])
    assert _queries(client, rules_url(org)) == small
    with django_assert_max_num_queries(25):
        client.get(rules_url(org))


def test_recharges_made_before_their_table_are_read_from_the_keys(org, employee):
    """The migration that adds CreditRuleRecharge fills it from the transfers' keys."""
    fund(org, 100)
    everyone = rule(org, amount=10, threshold=5, monthly_max=30)
    wallet = ledger.member_wallet(org, employee)
    for number, key in enumerate(
        (
            f"rule:{everyone.pk}:auto:2026-02:member:{employee.pk}:1",
            f"rule:{everyone.pk}:auto:2026-03:member:{employee.pk}:1",
            f"rule:{everyone.pk}:auto:2026-03:member:{employee.pk}:2",
            f"rule:{everyone.pk}:2026-03-01:member:{employee.pk}",
            "rule:oops:auto",
        ),
        start=1,
    ):
        ledger.transfer_post(
            organization=org, actor=None, source=company(org), destination=wallet,
            amount=number, kind="allocation", idempotency_key=key,
        )  # fmt: skip
    migration = importlib.import_module("credit.migrations.0006_rule_recharges_and_history_index")
    with all_tenants("the migration reads every organization"):
        migration.recharges_from_transfer_keys(apps, None)
    found = CreditRuleRecharge.objects.for_org(org).order_by("month", "number")
    assert [(r.month, r.number, r.amount, r.rule, r.member) for r in found] == [
        (date(2026, 2, 1), 1, money(org, 1), everyone, employee),
        (date(2026, 3, 1), 1, money(org, 2), everyone, employee),
        (date(2026, 3, 1), 2, money(org, 3), everyone, employee),
    ]
    assert {r.transfer.idempotency_key for r in found} <= set(
        Transfer.objects.for_org(org).values_list("idempotency_key", flat=True)
    )
