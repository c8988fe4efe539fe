"""Monthly allocations: "add X" and "top up to X" on the 1st, exactly once per period."""

import threading
from datetime import date

import pytest
from django.db import connection

from credit.models import CreditRuleRun, Transfer
from credit.selectors.settings import credit_settings
from credit.services import auto_recharge, rules
from credit.tasks.rules import run_monthly_rules
from members.models import ListMembership
from organizations.models import AuditEvent, Member
from tests.credit.rules_support import balance_of, emails, fund, give, money, rule, utc
from tests.factories import MemberFactory, MemberListFactory

MARCH = date(2026, 3, 1)


def allocations(organization, a_rule) -> list[Transfer]:
    return list(
        Transfer.objects.for_org(organization)
        .filter(idempotency_key__startswith=f"rule:{a_rule.pk}:")
        .order_by("pk")
    )


@pytest.fixture
def march(time_machine):
    """Paris, 1 March 2026 at 00:05."""
    time_machine.move_to(utc(2026, 2, 28, 23, 5), tick=False)


def test_add_each_month_runs_once_per_period(org, owner, admin, employee, march):
    fund(org, 100)
    every = rule(org, "monthly_add", amount=10)

    assert run_monthly_rules() == 1
    assert run_monthly_rules() == 0, "the second sweep finds the run and does nothing"
    assert rules.credit_rule_run(organization=org, rule_id=every.pk, period=MARCH).status == (
        "done_before"
    )

    for member in (owner, admin, employee):
        assert balance_of(org, member) == money(org, 10)
    [run] = CreditRuleRun.objects.for_org(org).filter(rule=every)
    assert (run.period, run.members_credited, run.total) == (MARCH, 3, money(org, 30))
    keys = {t.idempotency_key for t in allocations(org, every)}
    assert keys == {f"rule:{every.pk}:2026-03-01:member:{m.pk}" for m in (owner, admin, employee)}
    assert {t.memo for t in allocations(org, every)} == {"Monthly allocation"}
    event = AuditEvent.objects.for_org(org).get(verb="credit_rule.ran")
    assert event.data == {"period": "2026-03-01", "members": 3, "total": "30.0000"}


def test_top_up_gives_what_is_missing(org, owner, employee, march):
    fund(org, 100)
    give(org, owner, 25)
    give(org, employee, 3)
    top_up = rule(org, "monthly_top_up", amount=20)

    run_monthly_rules()

    assert balance_of(org, employee) == money(org, 20)
    assert balance_of(org, owner) == money(org, 25)
    run = CreditRuleRun.objects.for_org(org).get(rule=top_up)
    assert (run.members_credited, run.total) == (1, money(org, 17))


def test_a_top_up_nobody_needs_is_still_this_months_run(org, employee, march):
    fund(org, 100)
    give(org, employee, 30)
    top_up = rule(org, "monthly_top_up", amount=20, member=employee)
    run_monthly_rules()
    run = CreditRuleRun.objects.for_org(org).get(rule=top_up)
    assert run.members_credited == 0
    assert "already had" in run.note
    assert allocations(org, top_up) == []


def test_the_next_period_begins_at_midnight_in_the_organizations_time_zone(
    org, other_org, time_machine
):
    org.time_zone = "Pacific/Auckland"
    org.save()
    other_org.time_zone = "UTC"
    other_org.save()
    time_machine.move_to(utc(2026, 2, 10, 12), tick=False)
    added = {}
    for organization in (org, other_org):
        fund(organization, 100)
        MemberFactory(organization=organization)
        added[organization.pk] = rule(organization, "monthly_add", amount=5)
    run_monthly_rules()  # February's run, for both

    time_machine.move_to(utc(2026, 2, 28, 10, 59), tick=False)  # Auckland: 23:59 on the 28th
    assert run_monthly_rules() == 0
    time_machine.move_to(utc(2026, 2, 28, 11, 0), tick=False)  # Auckland: midnight, 1 March
    assert run_monthly_rules() == 1
    periods = {
        organization.pk: sorted(
            CreditRuleRun.objects.for_org(organization).values_list("period", flat=True)
        )
        for organization in (org, other_org)
    }
    assert periods == {
        org.pk: [date(2026, 2, 1), MARCH],
        other_org.pk: [date(2026, 2, 1)],
    }
    time_machine.move_to(utc(2026, 3, 1, 0, 0), tick=False)  # UTC: 1 March
    assert run_monthly_rules() == 1
    assert len(allocations(other_org, added[other_org.pk])) == 2


def test_a_rule_made_to_start_next_month_skips_this_one(org, owner, admin, time_machine):
    time_machine.move_to(utc(2026, 2, 14, 10), tick=False)
    fund(org, 100)
    later = rules.credit_rule_create(
        organization=org,
        actor=admin,
        kind="monthly_add",
        target="everyone",
        amount="7.5",
        start="next_month",
    )
    assert run_monthly_rules() == 0
    assert balance_of(org, owner) == money(org, 0)

    time_machine.move_to(utc(2026, 2, 28, 23, 30), tick=False)  # Paris: 1 March, 00:30
    assert run_monthly_rules() == 1
    assert balance_of(org, owner) == money(org, "7.5")
    runs = CreditRuleRun.objects.for_org(org).filter(rule=later).order_by("period")
    assert [(run.period, run.members_credited) for run in runs] == [
        (date(2026, 2, 1), 0),
        (MARCH, 2),
    ]


def test_a_short_company_balance_moves_nothing_and_tries_again(
    org, owner, admin, finance, employee, march, time_machine, monkeypatch
):
    asked = []
    monkeypatch.setattr(
        auto_recharge, "auto_recharge_start_if_needed", lambda **kw: asked.append(kw)
    )
    fund(org, 30)
    every = rule(org, "monthly_add", amount=10)  # 4 members: 40 needed

    assert run_monthly_rules() == 1
    assert allocations(org, every) == []
    assert balance_of(org) == money(org, 30)
    assert not CreditRuleRun.objects.for_org(org).exists(), "no run: the next sweep retries"
    [short] = AuditEvent.objects.for_org(org).filter(verb="credit_rule.run_short")
    assert short.data["missing"] == "10.0000"
    mails = emails(f"rule-short:{every.pk}:")
    assert {m.to for m in mails} == {owner.email, admin.email}
    assert "short by €10.00" in mails[0].body
    assert asked == [], "company auto-recharge is off"

    run_monthly_rules()  # 15 minutes later: still short; no second email, no second event
    assert len(emails(f"rule-short:{every.pk}:")) == 2
    assert AuditEvent.objects.for_org(org).filter(verb="credit_rule.run_short").count() == 1

    time_machine.move_to(utc(2026, 3, 2, 9), tick=False)
    run_monthly_rules()  # the next day: one more reminder
    assert len(emails(f"rule-short:{every.pk}:")) == 4

    fund(org, 10)
    run_monthly_rules()
    run = CreditRuleRun.objects.for_org(org).get(rule=every)
    assert (run.period, run.members_credited) == (MARCH, 4)
    assert "short" in run.note
    assert balance_of(org) == money(org, 0)


def test_a_short_run_asks_for_the_company_auto_recharge(org, owner, march, monkeypatch):
    settings_row = credit_settings(org)
    settings_row.auto_recharge_enabled = True
    settings_row.save()
    asked = []
    monkeypatch.setattr(
        auto_recharge, "auto_recharge_start_if_needed", lambda **kw: asked.append(kw)
    )
    rule(org, "monthly_top_up", amount=10)
    run_monthly_rules()
    assert asked == [{"organization": org}]
    assert len(emails("rule-short")) == 1, "a monthly rule short always tells the managers"


def test_monthly_rules_follow_the_precedence(org, owner, employee, finance, march):
    fund(org, 200)
    sales = MemberListFactory(organization=org)
    ListMembership.objects.create(organization=org, member_list=sales, member=employee)
    everyone = rule(org, "monthly_add", amount=5)
    for_sales = rule(org, "monthly_top_up", amount=20, member_list=sales)
    for_finance = rule(org, "monthly_add", amount=1, member=finance)
    rule(org, "auto_recharge", amount=50, threshold=1, monthly_max=50, member=owner)

    run_monthly_rules()

    assert balance_of(org, owner) == money(org, 5)
    assert balance_of(org, employee) == money(org, 20)
    assert balance_of(org, finance) == money(org, 1)
    credited = {r.rule_id: r.members_credited for r in CreditRuleRun.objects.for_org(org).all()}
    assert credited == {everyone.pk: 1, for_sales.pk: 1, for_finance.pk: 1}


def test_paused_rules_and_members_who_cannot_receive_are_left_out(org, employee, march):
    fund(org, 100)
    for status in (Member.Status.SUSPENDED, Member.Status.INVITED, Member.Status.REMOVED):
        MemberFactory(organization=org, status=status)
    paused = rule(org, "monthly_add", amount=5, member=employee, active=False)
    everyone = rule(org, "monthly_add", amount=3)
    run_monthly_rules()
    assert balance_of(org, employee) == money(org, 3)
    assert [t.destination.member for t in allocations(org, everyone)] == [employee]
    assert not CreditRuleRun.objects.for_org(org).filter(rule=paused).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_run_each_rule_once(org, owner, admin, employee, time_machine):
    time_machine.move_to(utc(2026, 2, 28, 23, 5), tick=False)
    fund(org, 1000)
    give(org, employee, 4)
    add = rule(org, "monthly_add", amount=10)
    top_up = rule(org, "monthly_top_up", amount=20, member=employee)
    barrier = threading.Barrier(5)
    errors = []

    def sweep():
        try:
            barrier.wait()
            run_monthly_rules()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert CreditRuleRun.objects.for_org(org).count() == 2
    assert len(allocations(org, add)) == 2  # the owner and the admin
    assert len(allocations(org, top_up)) == 1
    assert balance_of(org, employee) == money(org, 20)
    assert balance_of(org) == money(org, 1000 - 4 - 20 - 16)
