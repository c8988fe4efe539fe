"""The credit rules through a real worker: the beat's sweeps and the ledger's after-commit
task, sent to Redis and run by Celery as in production."""

import pytest

from credit.models import CreditRuleRun, Transfer
from credit.tasks.rules import check_auto_recharges, run_monthly_rules
from tests.credit.rules_support import balance_of, fund, give, money, rule, spend
from tests.factories import MemberFactory, OrganizationFactory
from tests.integration.waiting import wait_for


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_monthly_sweep_runs_each_rule_once_through_the_worker(
    celery_worker_thread, celery_tasks
):
    org = OrganizationFactory()
    members = [MemberFactory(organization=org) for _ in range(3)]
    fund(org, 100)
    add = rule(org, "monthly_add", amount=10)

    for _ in range(3):
        run_monthly_rules.delay()

    assert wait_for(lambda: CreditRuleRun.objects.for_org(org).filter(rule=add).exists())
    # All three sweeps, and the runs they fanned out, are done: the other two changed nothing.
    assert celery_tasks.wait_idle()
    assert celery_tasks.sent_names.count("credit.run_monthly_rules") == 3
    assert CreditRuleRun.objects.for_org(org).count() == 1
    for member in members:
        assert balance_of(org, member) == money(org, 10)
    assert Transfer.objects.for_org(org).filter(kind="allocation").count() == 3


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_drop_recharges_the_member_after_commit_through_the_worker(
    celery_worker_thread, celery_tasks
):
    org = OrganizationFactory()
    member = MemberFactory(organization=org)
    fund(org, 100)
    give(org, member, 8)
    rule(org, amount=10, threshold=5, monthly_max=30)

    spend(org, member, 6)  # committed: the ledger sends balances_dropped to the worker

    assert wait_for(lambda: balance_of(org, member) == money(org, 12))
    check_auto_recharges.delay()
    assert celery_tasks.wait_idle()
    assert balance_of(org, member) == money(org, 12), "above the threshold: once"
