"""Monthly rules: "add X" or "top up to X" on the 1st, once per period.

Owns CreditRuleRun rows and the transfers keyed `rule:<id>:<period>:member:<id>`. A period is
the first day of the month in the organization's time zone. Locks the rule row, then the
company and members' wallets (id order); the run row is written in the transaction that moves
the money, so a second sweep finds it and changes nothing. When the company balance is short,
nothing moves and no run is written: the attempt is recorded in the audit log (once a day), the
managers are emailed and the company auto-recharge is asked, and the next sweeps of the month
try again.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, CreditRule, CreditRuleRun, Transfer
from credit.selectors.rules import MONTHLY_KINDS, RUN_SHORT_VERB, monthly_run_key, rule_members
from credit.selectors.spending import local_month, local_today
from credit.services.alerts import company_short_handle
from credit.services.ledger import (
    Movement,
    accounts_lock,
    member_wallets,
    system_account,
    transfers_post,
)
from organizations.audit import audit_record
from organizations.models import AuditEvent, Organization
from organizations.scoping import all_tenants


@dataclass(frozen=True)
class RunOutcome:
    """What running a monthly rule for a period did: "ran", "done_before" (a run exists),
    "inactive" (paused, deleted, or not a monthly rule) or "short" (nothing moved)."""

    status: str
    run: CreditRuleRun | None = None
    missing: Money | None = None


def credit_rule_run(*, organization: Organization, rule_id: int, period: date) -> RunOutcome:
    """Give a monthly rule's credit for `period` (a month's first day), exactly once.

    Locks the rule row, then the company and members' wallets (id order). All or nothing:
    when the company balance cannot cover every member, nothing moves, the refusal is
    recorded (audit, once a day), the managers are emailed (once a day) and the company
    auto-recharge is asked; a later call for the same period tries again.
    """
    short = None
    # Wallets are created (committed) before the locks are taken, so that the transaction
    # below inserts no account row another posting could wait for while holding a lock.
    candidate = CreditRule.objects.for_org(organization).filter(pk=rule_id).first()
    if candidate is not None:
        member_wallets(organization, rule_members(organization=organization, rule=candidate))
    with transaction.atomic():
        rule = (
            CreditRule.objects.for_org(organization)
            .select_for_update()
            .filter(pk=rule_id, active=True, kind__in=MONTHLY_KINDS)
            .first()
        )
        if rule is None:
            return RunOutcome("inactive")
        existing = CreditRuleRun.objects.for_org(organization).filter(rule=rule, period=period)
        if existing.exists():
            return RunOutcome("done_before", run=existing.get())
        members = rule_members(organization=organization, rule=rule)
        company = system_account(organization, Account.Kind.ORGANIZATION)
        wallets = member_wallets(organization, members) if members else {}
        locked = accounts_lock(organization, [company, *wallets.values()])
        company = locked[company.pk]
        key = monthly_run_key(rule, period)
        memo = (
            _("Monthly allocation")
            if rule.kind == CreditRule.Kind.MONTHLY_ADD
            else _("Monthly top-up")
        )
        movements = []
        for member in members:
            wallet = locked[wallets[member.pk].pk]
            give = (
                rule.amount
                if rule.kind == CreditRule.Kind.MONTHLY_ADD
                else rule.amount - wallet.balance
            )
            if give.amount > 0:
                movements.append(
                    Movement(
                        source=company,
                        destination=wallet,
                        amount=give,
                        kind=Transfer.Kind.ALLOCATION,
                        idempotency_key=f"{key}:member:{member.pk}",
                        memo=memo,
                    )
                )
        total = sum((movement.amount for movement in movements), Money(0, organization.currency))
        if total > company.balance:
            short = (total - company.balance, total, company.balance, len(movements))
            _run_short_record(organization, rule, period, *short)
        else:
            transfers_post(organization=organization, actor=None, movements=movements)
            run = CreditRuleRun.objects.create(
                organization=organization,
                rule=rule,
                period=period,
                members_credited=len(movements),
                total=total,
                note=_run_note(organization, rule, period, members, movements),
            )
            audit_record(
                organization=organization,
                actor=None,
                verb="credit_rule.ran",
                target=rule,
                data={
                    "period": period.isoformat(),
                    "members": len(movements),
                    "total": str(total.amount),
                },
            )
            return RunOutcome("ran", run=run)
    missing, total, balance, count = short
    company_short_handle(
        organization=organization,
        template="rule_short",
        key=f"credit:rule-short:{rule.pk}:{period.isoformat()}:{local_today(organization)}",
        context={
            "rule": rule,
            "period": period,
            "missing": missing,
            "total": total,
            "balance": balance,
            "members": count,
        },
        email_anyway=True,
    )
    return RunOutcome("short", missing=missing)


def _run_short_record(
    organization: Organization,
    rule: CreditRule,
    period: date,
    missing: Money,
    total: Money,
    balance: Money,
    members: int,
) -> None:
    """One audit event per rule, period and day: the rules page shows the latest."""
    day = local_today(organization).isoformat()
    seen = AuditEvent.objects.for_org(organization).filter(
        verb=RUN_SHORT_VERB,
        target_id=str(rule.pk),
        data__period=period.isoformat(),
        data__day=day,
    )
    if seen.exists():
        return
    audit_record(
        organization=organization,
        actor=None,
        verb=RUN_SHORT_VERB,
        target=rule,
        data={
            "period": period.isoformat(),
            "day": day,
            "missing": str(missing.amount),
            "total": str(total.amount),
            "balance": str(balance.amount),
            "members": members,
        },
    )


def _run_note(organization, rule, period, members, movements) -> str:
    first_short = (
        AuditEvent.objects.for_org(organization)
        .filter(verb=RUN_SHORT_VERB, target_id=str(rule.pk), data__period=period.isoformat())
        .order_by("created_at", "pk")
        .first()
    )
    if first_short is not None:
        day = date.fromisoformat(first_short.data["day"])
        return _("Given late: the company balance was short from %(day)s.") % {
            "day": date_format(day, "SHORT_DATE_FORMAT")
        }
    if not members:
        return _("No member to credit.")
    if not movements:
        return _("Every member already had at least %(amount)s.") % {"amount": rule.amount}
    return ""


def credit_rules_due(*, now: datetime | None = None) -> list[tuple[int, int, date]]:
    """(organization id, rule id, period) of each active monthly rule without a run for the
    current month of its organization. Reads every organization: the beat sweep's query."""
    with all_tenants("the monthly sweep looks at every organization's rules"):
        rules = list(
            CreditRule.objects.filter(active=True, kind__in=MONTHLY_KINDS)
            .select_related("organization")
            .order_by("organization_id", "pk")
        )
        due = [(rule, local_month(rule.organization, now)) for rule in rules]
        done = set(
            CreditRuleRun.objects.filter(
                rule_id__in=[rule.pk for rule in rules],
                period__in={period for _rule, period in due},
            ).values_list("rule_id", "period")
        )
    return [
        (rule.organization_id, rule.pk, period)
        for rule, period in due
        if (rule.pk, period) not in done
    ]
