"""Tasks for balances that dropped and for the credit rules; each takes ids and calls one
service of credit.services.rules. The two beat sweeps select what is due and fan out one task
per organization or rule; each of those re-checks under its locks, so a second run of a sweep
(or two at once) changes nothing.
"""

from datetime import date

from celery import shared_task

from credit.services import rules as services
from credit.services.dropped import dropped_take
from organizations.models import Organization
from organizations.scoping import tenant_scope

# Members evaluated by one task: about two seconds of work.
RECHARGE_BATCH = 100

__all__ = [
    "balances_dropped",
    "check_auto_recharges",
    "check_organization_balances",
    "recharge_members",
    "run_monthly_rule",
    "run_monthly_rules",
]


def _organization(organization_id: int) -> Organization | None:
    return Organization.objects.filter(pk=organization_id).first()


@shared_task(name="credit.balances_dropped")
def balances_dropped(
    organization_id: int, account_ids: list[int] | None = None, kinds: list[str] | None = None
) -> None:
    """The ledger posted transfers that lowered wallets: the ones noted since the last run
    (credit.services.dropped), and any given here."""
    noted_accounts, noted_kinds = dropped_take(organization_id=organization_id)
    account_ids = sorted({*(account_ids or []), *noted_accounts})
    kinds = sorted({*(kinds or []), *noted_kinds})
    organization = _organization(organization_id)
    if organization is None or not account_ids:
        return
    with tenant_scope(organization):
        services.balances_dropped_handle(
            organization=organization, account_ids=account_ids, kinds=kinds
        )


@shared_task(name="credit.run_monthly_rules")
def run_monthly_rules() -> int:
    """Beat, every 15 minutes: run each monthly rule not yet run this month (the month of its
    organization's time zone)."""
    due = services.credit_rules_due()
    for organization_id, rule_id, period in due:
        run_monthly_rule.delay(organization_id, rule_id, period.isoformat())
    return len(due)


@shared_task(name="credit.run_monthly_rule")
def run_monthly_rule(organization_id: int, rule_id: int, period: str) -> str | None:
    organization = _organization(organization_id)
    if organization is None:
        return None
    with tenant_scope(organization):
        outcome = services.credit_rule_run(
            organization=organization, rule_id=rule_id, period=date.fromisoformat(period)
        )
    return outcome.status


@shared_task(name="credit.check_auto_recharges")
def check_auto_recharges() -> int:
    """Beat, every 10 minutes: member and company auto-recharges and the low-balance warning,
    for balances that dropped without a posting we saw (or a warning to re-arm)."""
    organization_ids = services.organizations_to_check()
    for organization_id in organization_ids:
        check_organization_balances.delay(organization_id)
    return len(organization_ids)


@shared_task(name="credit.check_organization_balances")
def check_organization_balances(organization_id: int) -> None:
    """One organization: members due for an auto-recharge, in batches of their own tasks (a
    new rule for everyone may find thousands), then the company balance's checks."""
    organization = _organization(organization_id)
    if organization is None:
        return
    with tenant_scope(organization):
        due = services.members_due_for_recharge(organization=organization)
        for start in range(0, len(due), RECHARGE_BATCH):
            recharge_members.delay(organization_id, due[start : start + RECHARGE_BATCH])
        services.organization_balances_check(organization=organization)


@shared_task(name="credit.recharge_members")
def recharge_members(organization_id: int, member_ids: list[int]) -> None:
    organization = _organization(organization_id)
    if organization is None:
        return
    with tenant_scope(organization):
        services.member_auto_recharges(organization=organization, member_ids=member_ids)
