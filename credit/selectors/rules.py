"""Reads of the credit rules: which rule applies to whom, and what the rules page shows.

Precedence. Rules come in two families that never compete with each other: the member
auto-recharge, and the monthly allocations ("add X" and "top up to X" are one family: a member
receives at most one monthly allocation). Within a family, only active rules count, and for
each active member the most specific rule wins: a rule for the member, else a rule for one of
their lists, else the rule for everyone. Among rules of two lists the member is in, the older
rule wins, so that adding a rule never changes what members of older rules receive.
Invited (not yet joined), suspended and former members receive nothing from rules.

Keys. Each transfer a rule posts is keyed by the rule: `rule:<id>:<period>:member:<id>` for a
monthly run, `rule:<id>:auto:<YYYY-MM>:member:<id>:<n>` for the n-th automatic recharge of a
member in a month (the organization's month), which is how the month's recharges are counted.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Sum
from djmoney.money import Money

from credit.models import Account, CreditRule, CreditRuleRun, Transfer
from credit.selectors.spending import local_month, next_month
from members.models import ListMembership
from organizations.models import AuditEvent, Member, Organization

AUTO_KINDS = (CreditRule.Kind.AUTO_RECHARGE,)
MONTHLY_KINDS = (CreditRule.Kind.MONTHLY_ADD, CreditRule.Kind.MONTHLY_TOP_UP)
RUN_SHORT_VERB = "credit_rule.run_short"


def family_of(kind: str) -> tuple[str, ...]:
    return AUTO_KINDS if kind in AUTO_KINDS else MONTHLY_KINDS


def monthly_run_key(rule: CreditRule, period: date) -> str:
    return f"rule:{rule.pk}:{period.isoformat()}"


def auto_recharge_prefix(rule: CreditRule, month: date, member_id: int) -> str:
    return f"rule:{rule.pk}:auto:{month:%Y-%m}:member:{member_id}:"


def rules_by_member(
    *,
    organization: Organization,
    kinds: Iterable[str],
    member_ids: Iterable[int] | None = None,
) -> dict[int, CreditRule]:
    """The rule of `kinds` (one family) that applies to each active member, by member id.

    Members without an applicable rule are absent. `member_ids` limits the answer to some
    members (all active members otherwise).
    """
    rules = list(
        CreditRule.objects.for_org(organization)
        .filter(active=True, kind__in=list(kinds))
        .order_by("created_at", "pk")
    )
    if not rules:
        return {}
    members = Member.objects.for_org(organization).filter(status=Member.Status.ACTIVE)
    if member_ids is not None:
        members = members.filter(pk__in=list(member_ids))
    active = set(members.values_list("pk", flat=True))
    if not active:
        return {}

    everyone: dict[int, CreditRule] = {}
    by_list: dict[int, CreditRule] = {}
    by_member: dict[int, CreditRule] = {}
    everyone_rule = next(
        (rule for rule in rules if rule.member_id is None and rule.member_list_id is None), None
    )
    if everyone_rule is not None:
        everyone = dict.fromkeys(active, everyone_rule)
    list_rules = [rule for rule in rules if rule.member_list_id is not None]
    if list_rules:
        in_lists = defaultdict(list)
        for list_id, member_id in (
            ListMembership.objects.for_org(organization)
            .filter(
                member_list_id__in=[rule.member_list_id for rule in list_rules],
                member_id__in=active,
            )
            .values_list("member_list_id", "member_id")
        ):
            in_lists[list_id].append(member_id)
        for rule in list_rules:
            for member_id in in_lists[rule.member_list_id]:
                by_list.setdefault(member_id, rule)
    for rule in rules:
        if rule.member_id is not None and rule.member_id in active:
            by_member.setdefault(rule.member_id, rule)
    return {**everyone, **by_list, **by_member}


def rule_members(*, organization: Organization, rule: CreditRule) -> list[Member]:
    """The active members for whom `rule` is the one that applies (see the precedence)."""
    winners = rules_by_member(organization=organization, kinds=family_of(rule.kind))
    ids = [member_id for member_id, winner in winners.items() if winner.pk == rule.pk]
    return list(Member.objects.for_org(organization).filter(pk__in=ids).order_by("pk"))


def target_taken(
    *,
    organization: Organization,
    kind: str,
    member_id: int | None,
    member_list_id: int | None,
) -> CreditRule | None:
    """The rule of the same family and the same target, if there is one (active or paused)."""
    return (
        CreditRule.objects.for_org(organization)
        .filter(kind__in=family_of(kind), member_id=member_id, member_list_id=member_list_id)
        .first()
    )


# --- The rules page ---------------------------------------------------------------------------


@dataclass
class RuleRow:
    rule: CreditRule
    # How many active members the rule applies to now (after precedence).
    members: int = 0
    runs: list[CreditRuleRun] = field(default_factory=list)
    # A monthly rule: whether this month's run is done, else its last refused attempt.
    ran_this_month: bool = False
    waiting: AuditEvent | None = None
    # An auto-recharge rule: this month's recharges.
    recharges: int = 0
    recharged: Money | None = None

    @property
    def is_auto(self) -> bool:
        return self.rule.kind in AUTO_KINDS


@dataclass
class RechargeRow:
    member: Member | None
    rule: CreditRule | None
    count: int
    total: Money

    @property
    def limit_reached(self) -> bool:
        if self.rule is None or self.rule.monthly_max is None:
            return False
        return self.total + self.rule.amount > self.rule.monthly_max


@dataclass
class RulesOverview:
    month: date
    next_run: date
    rules: list[RuleRow]
    recharges: list[RechargeRow]


def credit_rules_overview(*, organization: Organization, runs_shown: int = 3) -> RulesOverview:
    """The rules with their targets, recent runs and this month's automatic recharges."""
    month = local_month(organization)
    rules = list(
        CreditRule.objects.for_org(organization)
        .select_related("member", "member_list", "created_by")
        .prefetch_related(
            Prefetch(
                "runs",
                queryset=CreditRuleRun.objects.for_org(organization).order_by("-period", "-pk"),
            )
        )
        .order_by("kind", "created_at", "pk")
    )
    rows = {rule.pk: RuleRow(rule=rule) for rule in rules}
    for row in rows.values():
        runs = list(row.rule.runs.all())
        row.runs = runs[:runs_shown]
        row.ran_this_month = any(run.period == month for run in runs)

    for kinds in (AUTO_KINDS, MONTHLY_KINDS):
        for winner in rules_by_member(organization=organization, kinds=kinds).values():
            rows[winner.pk].members += 1

    waiting_ids = [
        str(row.rule.pk) for row in rows.values() if not row.is_auto and not row.ran_this_month
    ]
    if waiting_ids:
        events = AuditEvent.objects.for_org(organization).filter(
            verb=RUN_SHORT_VERB, target_id__in=waiting_ids, data__period=month.isoformat()
        )
        for event in events.order_by("created_at", "pk"):
            rows[int(event.target_id)].waiting = event

    recharges = _recharges_this_month(organization, month, rows)
    return RulesOverview(
        month=month, next_run=next_month(month), rules=list(rows.values()), recharges=recharges
    )


def _recharges_this_month(
    organization: Organization, month: date, rows: dict[int, RuleRow]
) -> list[RechargeRow]:
    marker = f":auto:{month:%Y-%m}:member:"
    totals = (
        Transfer.objects.for_org(organization)
        .filter(idempotency_key__startswith="rule:", idempotency_key__contains=marker)
        .values("idempotency_key", "destination_id", "amount")
    )
    grouped: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    for transfer in totals:
        rule_id = int(transfer["idempotency_key"].split(":")[1])
        grouped[(rule_id, transfer["destination_id"])].append(transfer["amount"])
    if not grouped:
        return []
    members_by_wallet = {
        account.pk: account.member
        for account in Account.objects.for_org(organization)
        .filter(pk__in={wallet_id for _rule, wallet_id in grouped})
        .select_related("member")
    }
    currency = organization.currency
    result = []
    for (rule_id, wallet_id), amounts in grouped.items():
        total = Money(sum(amounts, start=Decimal(0)), currency)
        row = rows.get(rule_id)
        if row is not None:
            row.recharges += len(amounts)
            row.recharged = (row.recharged or Money(0, currency)) + total
        result.append(
            RechargeRow(
                member=members_by_wallet.get(wallet_id),
                rule=row.rule if row is not None else None,
                count=len(amounts),
                total=total,
            )
        )
    result.sort(key=lambda item: (-item.total.amount, str(item.member or "")))
    return result


def member_recharged(
    *, organization: Organization, rule: CreditRule, month: date, member_id: int
) -> tuple[int, Money]:
    """How many automatic recharges `rule` gave the member in `month`, and their total."""
    found = (
        Transfer.objects.for_org(organization)
        .filter(idempotency_key__startswith=auto_recharge_prefix(rule, month, member_id))
        .aggregate(total=Sum("amount"), count=Count("pk"))
    )
    return found["count"], Money(found["total"] or 0, organization.currency)
