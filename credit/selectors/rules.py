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
member in a month (the organization's month). Each recharge also has its CreditRuleRecharge
row (rule, member, month, number): the month's recharges are counted from there.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Count, Prefetch, Sum
from djmoney.money import Money

from credit.models import CreditRule, CreditRuleRecharge, CreditRuleRun
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


# Every active rule with the number of active members it applies to, after the precedence of
# `rules_by_member`, in one statement whatever the numbers of members, lists and rules: the
# rules page must not read every member's lists. A member's own rule or their oldest list's
# rule wins ("specific"); the oldest rule for everyone of the family has the other members.
_RULE_MEMBER_COUNTS = """
    WITH rule AS (
        SELECT id, kind = ANY(%(auto)s) AS auto, member_id, member_list_id,
               row_number() OVER (ORDER BY created_at, id) AS age
        FROM credit_creditrule
        WHERE organization_id = %(organization)s AND active
    ),
    active AS (
        SELECT id FROM organizations_member
        WHERE organization_id = %(organization)s AND status = %(active)s
    ),
    specific AS (
        SELECT DISTINCT ON (candidate.member_id, candidate.auto)
               candidate.rule_id, candidate.auto
        FROM (
            SELECT member_id, auto, 0 AS level, age, id AS rule_id
            FROM rule WHERE member_id IS NOT NULL
            UNION ALL
            SELECT listed.member_id, rule.auto, 1, rule.age, rule.id
            FROM rule JOIN members_listmembership AS listed
                 ON listed.member_list_id = rule.member_list_id
                AND listed.organization_id = %(organization)s
        ) AS candidate
        JOIN active ON active.id = candidate.member_id
        ORDER BY candidate.member_id, candidate.auto, candidate.level, candidate.age
    ),
    everyone AS (
        SELECT DISTINCT ON (auto) id, auto FROM rule
        WHERE member_id IS NULL AND member_list_id IS NULL
        ORDER BY auto, age
    )
    SELECT rule.id,
           CASE WHEN everyone.id IS NOT NULL
                THEN (SELECT count(*) FROM active)
                     - (SELECT count(*) FROM specific WHERE specific.auto = rule.auto)
                ELSE (SELECT count(*) FROM specific WHERE specific.rule_id = rule.id)
           END
    FROM rule LEFT JOIN everyone ON everyone.id = rule.id
"""


def rule_member_counts(*, organization: Organization) -> dict[int, int]:
    """How many active members each active rule applies to now, by rule id (after the
    precedence; see `rules_by_member`, which names them): one query, counted by the database.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _RULE_MEMBER_COUNTS,
            {
                "organization": organization.pk,
                "auto": list(AUTO_KINDS),
                "active": Member.Status.ACTIVE.value,
            },
        )
        return dict(cursor.fetchall())


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


class RechargeRows:
    """This month's automatic recharges, one row per rule and member, largest total first:
    a sequence for a Paginator, which reads only the page it shows."""

    def __init__(self, organization: Organization, month: date, rules: dict[int, CreditRule]):
        self.organization = organization
        self.rules = rules
        self.groups = (
            CreditRuleRecharge.objects.for_org(organization)
            .filter(month=month)
            .values("rule_id", "member_id")
            .annotate(count=Count("pk"), total=Sum("amount"))
            .order_by("-total", "member__display_name", "member_id", "rule_id")
        )

    def count(self) -> int:
        return self.groups.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[RechargeRow]:
        groups = list(self.groups[index])
        members = Member.objects.for_org(self.organization).in_bulk(
            {group["member_id"] for group in groups}
        )
        currency = self.organization.currency
        return [
            RechargeRow(
                member=members.get(group["member_id"]),
                rule=self.rules.get(group["rule_id"]),
                count=group["count"],
                total=Money(group["total"], currency),
            )
            for group in groups
        ]


@dataclass
class RulesOverview:
    month: date
    next_run: date
    rules: list[RuleRow]
    recharges: RechargeRows


def credit_rules_overview(*, organization: Organization, runs_shown: int = 3) -> RulesOverview:
    """The rules with their targets, recent runs and this month's automatic recharges.

    A fixed number of queries, whatever the number of members, lists and transfers."""
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

    if any(rule.active for rule in rules):
        for rule_id, members in rule_member_counts(organization=organization).items():
            rows[rule_id].members = members

    waiting_ids = [
        str(row.rule.pk) for row in rows.values() if not row.is_auto and not row.ran_this_month
    ]
    if waiting_ids:
        events = AuditEvent.objects.for_org(organization).filter(
            verb=RUN_SHORT_VERB, target_id__in=waiting_ids, data__period=month.isoformat()
        )
        for event in events.order_by("created_at", "pk"):
            rows[int(event.target_id)].waiting = event

    by_rule = (
        CreditRuleRecharge.objects.for_org(organization)
        .filter(month=month, rule__isnull=False)
        .values("rule_id")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    for found in by_rule:
        row = rows[found["rule_id"]]
        row.recharges = found["count"]
        row.recharged = Money(found["total"], organization.currency)
    return RulesOverview(
        month=month,
        next_run=next_month(month),
        rules=list(rows.values()),
        recharges=RechargeRows(organization, month, {rule.pk: rule for rule in rules}),
    )


def member_recharged(
    *, organization: Organization, rule: CreditRule, month: date, member_id: int
) -> tuple[int, Money]:
    """How many automatic recharges `rule` gave the member in `month`, and their total."""
    found = (
        CreditRuleRecharge.objects.for_org(organization)
        .filter(rule=rule, month=month, member_id=member_id)
        .aggregate(total=Sum("amount"), count=Count("pk"))
    )
    return found["count"], Money(found["total"] or 0, organization.currency)
