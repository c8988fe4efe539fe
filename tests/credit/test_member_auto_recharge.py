"""Member auto-recharge: "recharge with X when the balance falls below Y, at most Z a month"."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from credit.models import Transfer
from credit.selectors.settings import credit_settings
from credit.services import auto_recharge, rules
from credit.services.allocation import credit_allocate, credit_take_back
from credit.tasks import rules as tasks
from credit.tasks.rules import check_auto_recharges, run_monthly_rules
from members.models import ListMembership
from organizations.models import AuditEvent, Member
from organizations.roles import Role
from tests.credit.rules_support import balance_of, emails, fund, give, money, rule, spend, utc
from tests.factories import MemberFactory, MemberListFactory, PurchaseFactory


def recharges(organization, member=None) -> list[Transfer]:
    transfers = Transfer.objects.for_org(organization).filter(idempotency_key__contains=":auto:")
    if member is not None:
        transfers = transfers.filter(destination__member=member)
    return list(transfers.order_by("created_at", "pk"))


@pytest.fixture
def funded(org, owner):
    fund(org, 100)
    return org


@pytest.fixture
def everyone_recharge(org):
    """Recharge with 10 when the balance falls below 5, at most 30 a month."""
    return rule(org, amount=10, threshold=5, monthly_max=30)


def test_a_drop_below_the_threshold_recharges_once(
    funded, employee, everyone_recharge, django_capture_on_commit_callbacks
):
    org = funded
    give(org, employee, 8)
    with django_capture_on_commit_callbacks(execute=True):
        spend(org, employee, 4)

    assert balance_of(org, employee) == money(org, 14)
    [transfer] = recharges(org)
    assert transfer.memo == "Automatic recharge"
    assert transfer.kind == "allocation"
    assert transfer.actor is None
    assert transfer.amount == money(org, 10)
    assert transfer.idempotency_key.startswith(f"rule:{everyone_recharge.pk}:auto:")
    event = AuditEvent.objects.for_org(org).get(verb="credit_rule.member_recharged")
    assert event.target_id == str(employee.pk)
    assert event.data["number"] == 1
    assert balance_of(org) == money(org, 82)

    # Above the threshold, spending does not recharge.
    with django_capture_on_commit_callbacks(execute=True):
        spend(org, employee, 3)
    assert len(recharges(org)) == 1


def test_a_take_back_is_not_refilled(
    funded, admin, employee, everyone_recharge, django_capture_on_commit_callbacks
):
    org = funded
    give(org, employee, 8)
    with django_capture_on_commit_callbacks(execute=True):
        credit_take_back(
            organization=org, actor=admin, members=[employee], amount=6, idempotency_key="tb"
        )
    assert balance_of(org, employee) == money(org, 2)
    # Nor by the periodic check: the balance stays as the admin left it...
    check_auto_recharges()
    assert recharges(org, employee) == []

    # ...until the member spends again.
    with django_capture_on_commit_callbacks(execute=True):
        spend(org, employee, 1)
    assert balance_of(org, employee) == money(org, 11)


def test_the_periodic_check_recharges_balances_it_did_not_see_drop(
    funded, employee, finance, everyone_recharge
):
    org = funded
    give(org, employee, 8)
    spend(org, employee, 6)  # no after-commit callbacks in this test: the drop went unseen
    assert recharges(org) == []

    check_auto_recharges()
    check_auto_recharges()

    assert balance_of(org, employee) == money(org, 12)
    # Members without a wallet yet (the owner, finance) hold nothing: below the threshold too.
    assert balance_of(org, finance) == money(org, 10)
    assert len(recharges(org)) == 3


def test_the_monthly_maximum_stops_recharges_until_the_first(
    funded, employee, time_machine, django_capture_on_commit_callbacks
):
    org = funded
    rule(org, amount=10, threshold=5, monthly_max=25)  # two recharges fit, not three
    time_machine.move_to(utc(2026, 3, 20, 12), tick=False)
    give(org, employee, 6)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            spend(org, employee, balance_of(org, employee).amount - 1)
    assert len(recharges(org, employee)) == 2
    assert balance_of(org, employee) == money(org, 1)
    outcome = rules.member_auto_recharge(organization=org, member=employee)
    assert outcome.status == "limit"

    # Paris, 31 March at 23:30: still March.
    time_machine.move_to(utc(2026, 3, 31, 21, 30), tick=False)
    check_auto_recharges()
    assert len(recharges(org, employee)) == 2

    # Paris, 1 April at 00:30: a new month, a new allowance.
    time_machine.move_to(utc(2026, 3, 31, 22, 30), tick=False)
    check_auto_recharges()
    assert len(recharges(org, employee)) == 3
    assert balance_of(org, employee) == money(org, 11)
    assert recharges(org, employee)[-1].idempotency_key.endswith(f":2026-04:member:{employee.pk}:1")


@pytest.mark.parametrize(
    ("time_zone", "recharged_at_1130_utc"),
    [("Pacific/Auckland", True), ("UTC", False)],
)
def test_the_month_is_the_organizations(
    org, employee, time_machine, time_zone, recharged_at_1130_utc
):
    org.time_zone = time_zone
    org.save()
    fund(org, 100)
    rule(org, amount=10, threshold=5, monthly_max=10)
    time_machine.move_to(utc(2026, 3, 31, 10, 30), tick=False)  # Auckland: 23:30 on the 31st
    rules.member_auto_recharge(organization=org, member=employee)
    spend(org, employee, 10)
    assert rules.member_auto_recharge(organization=org, member=employee).status == "limit"

    time_machine.move_to(utc(2026, 3, 31, 11, 30), tick=False)  # Auckland: 00:30 on 1 April
    outcome = rules.member_auto_recharge(organization=org, member=employee)
    assert (outcome.status == "recharged") is recharged_at_1130_utc


def test_the_most_specific_rule_wins(org, owner, admin, employee, finance, time_machine):
    fund(org, 500)
    sales, support = MemberListFactory(organization=org), MemberListFactory(organization=org)
    other = MemberFactory(organization=org, role=Role.MEMBER)
    for member_list, member in [(sales, employee), (sales, finance), (support, finance)]:
        ListMembership.objects.create(organization=org, member_list=member_list, member=member)
    time_machine.move_to(utc(2026, 3, 2, 9), tick=False)
    rule(org, amount=1, threshold=5, monthly_max=50)  # everyone
    time_machine.shift(timedelta(minutes=1))
    rule(org, amount=2, threshold=5, monthly_max=50, member_list=sales)
    time_machine.shift(timedelta(minutes=1))
    rule(org, amount=3, threshold=5, monthly_max=50, member_list=support)  # newer than Sales
    time_machine.shift(timedelta(minutes=1))
    rule(org, amount=4, threshold=5, monthly_max=50, member=employee)
    paused = rule(org, amount=9, threshold=5, monthly_max=50, member=other, active=False)

    check_auto_recharges()

    assert balance_of(org, employee) == money(org, 4)  # their own rule
    assert balance_of(org, finance) == money(org, 2)  # Sales, the older list rule
    assert balance_of(org, other) == money(org, 1)  # their rule is paused: everyone's
    assert balance_of(org, owner) == money(org, 1)
    assert paused.pk not in {int(t.idempotency_key.split(":")[1]) for t in recharges(org)}


def test_former_invited_and_suspended_members_are_not_recharged(org, employee, everyone_recharge):
    fund(org, 100)
    for status in (Member.Status.REMOVED, Member.Status.SUSPENDED, Member.Status.INVITED):
        MemberFactory(organization=org, status=status)
    check_auto_recharges()
    assert {t.destination.member for t in recharges(org)} == {employee}


def test_company_short_without_auto_recharge_emails_the_managers_once_a_day(
    org, owner, admin, finance, employee, everyone_recharge, monkeypatch, time_machine
):
    asked = []
    monkeypatch.setattr(
        auto_recharge, "auto_recharge_start_if_needed", lambda **kw: asked.append(kw)
    )
    time_machine.move_to(utc(2026, 5, 4, 8), tick=False)
    fund(org, 15)  # the owner gets 10; admin, finance and the employee find 5 left
    check_auto_recharges()
    assert balance_of(org, owner) == money(org, 10)
    outcomes = rules.member_auto_recharges_due(organization=org)
    assert [outcome.status for outcome in outcomes] == ["short"] * 3
    assert outcomes[0].missing == money(org, 5)

    check_auto_recharges()
    mails = emails("member-recharge-short")
    assert sorted(m.to for m in mails) == sorted([owner.email, admin.email]), "not finance"
    assert "short by €5.00" in mails[0].body
    assert asked == [], "company auto-recharge is off: not asked"

    time_machine.move_to(utc(2026, 5, 5, 8), tick=False)
    check_auto_recharges()
    assert len(emails("member-recharge-short")) == 4, "once a day"


def test_company_short_with_auto_recharge_asks_for_it(
    org, owner, employee, everyone_recharge, monkeypatch
):
    settings_row = credit_settings(org)
    settings_row.auto_recharge_enabled = True
    settings_row.save()
    started = []

    def start(*, organization):
        started.append(organization.pk)
        return PurchaseFactory(organization=organization, method="auto_recharge", reference="")

    monkeypatch.setattr(auto_recharge, "auto_recharge_start_if_needed", start)
    outcome = rules.member_auto_recharge(organization=org, member=employee)
    assert outcome.status == "short"
    assert started == [org.pk]
    assert emails("member-recharge-short") == [], "a recharge is on its way: no email"


def test_when_the_company_auto_recharge_cannot_start_the_managers_are_told(
    org, owner, employee, everyone_recharge
):
    settings_row = credit_settings(org)
    settings_row.auto_recharge_enabled = True
    settings_row.save()
    # The real auto_recharge_start_if_needed: without a saved payment method it starts nothing.
    rules.member_auto_recharge(organization=org, member=employee)
    assert [m.to for m in emails("member-recharge-short")] == [owner.email]


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_recharge_once(org, owner, employee):
    fund(org, 100)
    give(org, employee, 2)
    rule(org, amount=10, threshold=5, monthly_max=100)
    barrier = threading.Barrier(4)
    errors = []

    def evaluate():
        try:
            barrier.wait()
            rules.member_auto_recharge(organization=org, member=employee)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(recharges(org)) == 1
    assert balance_of(org, employee) == money(org, 12)


def test_a_recharge_key_seen_before_posts_nothing(org, employee):
    """The n-th recharge of a month has one key: replaying it moves nothing."""
    fund(org, 100)
    everyone = rule(org, amount=10, threshold=5, monthly_max=100)
    first = rules.member_auto_recharge(organization=org, member=employee).transfer
    month = timezone.localtime(first.created_at).strftime("%Y-%m")
    assert first.idempotency_key == f"rule:{everyone.pk}:auto:{month}:member:{employee.pk}:1"
    assert rules.member_auto_recharge(organization=org, member=employee).status == "not_needed"


@pytest.mark.django_db(transaction=True)
def test_sweeps_recharges_and_allocations_at_once_neither_deadlock_nor_double(
    org, owner, admin, time_machine
):
    """The monthly sweep, the periodic check, usage that triggers recharges, and an admin's
    allocation, all at once on the same wallets: every lock is taken in the same order."""
    time_machine.move_to(utc(2026, 6, 1, 6), tick=False)
    people = [MemberFactory(organization=org) for _ in range(6)]
    fund(org, 10_000)
    for person in people:
        give(org, person, 8)
    rule(org, amount=10, threshold=5, monthly_max=1000)
    rule(org, "monthly_add", amount=3)
    barrier = threading.Barrier(8)
    errors = []

    def run(work):
        try:
            barrier.wait()
            work()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def usage(person):
        return lambda: spend(org, person, 6)

    def allocate():
        credit_allocate(
            organization=org, actor=admin, members=people, amount=1, idempotency_key="all"
        )

    jobs = [run_monthly_rules, run_monthly_rules, check_auto_recharges, allocate]
    jobs += [usage(person) for person in people[:4]]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    monthly = Transfer.objects.for_org(org).filter(memo="Monthly allocation")
    assert monthly.count() == len(people) + 2, "once each: the six, the owner and the admin"
    for person in people:
        # 8 given, 3 monthly, 1 allocated, maybe 6 spent then one recharge of 10: never below 5.
        assert balance_of(org, person).amount >= 5


def test_the_periodic_check_evaluates_members_in_batches(org, owner, monkeypatch):
    fund(org, 100)
    people = [MemberFactory(organization=org) for _ in range(4)]
    rule(org, amount=10, threshold=5, monthly_max=10)
    batches = []
    evaluate = rules.member_auto_recharges

    def spy(*, organization, member_ids):
        batches.append(member_ids)
        return evaluate(organization=organization, member_ids=member_ids)

    monkeypatch.setattr(tasks, "RECHARGE_BATCH", 2)
    monkeypatch.setattr(rules, "member_auto_recharges", spy)
    check_auto_recharges()
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert sorted(m for batch in batches for m in batch) == sorted(
        [owner.pk, *(p.pk for p in people)]
    )
    assert len(recharges(org)) == 5
