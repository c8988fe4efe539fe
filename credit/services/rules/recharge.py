"""Member auto-recharge, and reacting when balances drop.

Owns the transfers keyed `rule:<id>:auto:<YYYY-MM>:member:<id>:<n>`: the n-th automatic
recharge of a member by a rule in the organization's month, and the CreditRuleRecharge row
written beside each of them (what the rules page and the monthly maximum count). Locks the
company and member wallets (accounts_lock, id order) and counts the month's recharges under
those locks, so two evaluations at once recharge once.
"""

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, CreditRule, CreditRuleRecharge, CreditSettings, Transfer
from credit.selectors.rules import (
    AUTO_KINDS,
    auto_recharge_prefix,
    member_recharged,
    rules_by_member,
)
from credit.selectors.spending import local_month, local_today
from credit.services.alerts import (
    company_auto_recharge_check,
    company_short_handle,
    low_balance_check,
)
from credit.services.ledger import (
    Movement,
    accounts_lock,
    member_wallet,
    system_account,
    transfers_post,
)
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.scoping import all_tenants


@dataclass(frozen=True)
class RechargeOutcome:
    """What evaluating a member's auto-recharge did: "recharged", "not_needed" (at or above
    the threshold), "limit" (this month's maximum reached) or "short" (company balance)."""

    status: str
    rule: CreditRule
    transfer: Transfer | None = None
    missing: Money | None = None


def member_auto_recharge(
    *, organization: Organization, member: Member, rule: CreditRule | None = None
) -> RechargeOutcome | None:
    """Recharge the member's wallet once if their auto-recharge rule says so (None: no rule).

    `rule` is the member's applicable rule when the caller already knows it (the sweep);
    otherwise it is looked up. Locks the company and member wallets (id order), re-reads the
    balance and counts this month's recharges under the locks; the recharge's key is the rule,
    the member, the month and the recharge's number, so concurrent evaluations recharge once.
    The recharge is recorded (CreditRuleRecharge) in the transaction that posts it.
    When the company balance is short, asks the company auto-recharge (if enabled) or emails
    the managers, at most once a day for the organization.
    """
    if rule is None:
        rule = rules_by_member(
            organization=organization, kinds=AUTO_KINDS, member_ids=[member.pk]
        ).get(member.pk)
    if rule is None:
        return None
    wallet = member_wallet(organization, member)
    if wallet.balance >= rule.threshold:
        return RechargeOutcome("not_needed", rule)
    company = system_account(organization, Account.Kind.ORGANIZATION)
    month = local_month(organization)
    prefix = auto_recharge_prefix(rule, month, member.pk)
    with transaction.atomic():
        locked = accounts_lock(organization, [company, wallet])
        company, wallet = locked[company.pk], locked[wallet.pk]
        if wallet.balance >= rule.threshold:
            return RechargeOutcome("not_needed", rule)
        count, given = member_recharged(
            organization=organization, rule=rule, month=month, member_id=member.pk
        )
        if given + rule.amount > rule.monthly_max:
            return RechargeOutcome("limit", rule)
        if company.balance < rule.amount:
            missing, balance = rule.amount - company.balance, company.balance
        else:
            [transfer] = transfers_post(
                organization=organization,
                actor=None,
                movements=[
                    Movement(
                        source=company,
                        destination=wallet,
                        amount=rule.amount,
                        kind=Transfer.Kind.ALLOCATION,
                        idempotency_key=f"{prefix}{count + 1}",
                        memo=_("Automatic recharge"),
                    )
                ],
            )
            CreditRuleRecharge.objects.create(
                organization=organization,
                rule=rule,
                member=member,
                month=month,
                number=count + 1,
                amount=rule.amount,
                transfer=transfer,
            )
            audit_record(
                organization=organization,
                actor=None,
                verb="credit_rule.member_recharged",
                target=member,
                data={
                    "rule": rule.pk,
                    "amount": str(rule.amount.amount),
                    "month": f"{month:%Y-%m}",
                    "number": count + 1,
                },
            )
            return RechargeOutcome("recharged", rule, transfer=transfer)
    company_short_handle(
        organization=organization,
        template="member_recharge_short",
        # Once a day for the organization: the first member left without a recharge is named;
        # the others are waiting for the same credit.
        key=f"credit:member-recharge-short:{organization.pk}:{local_today(organization)}",
        context={"rule": rule, "member": member, "missing": missing, "balance": balance},
    )
    return RechargeOutcome("short", rule, missing=missing)


def members_due_for_recharge(*, organization: Organization) -> list[int]:
    """Ids of the members whose balance is below their auto-recharge rule's threshold (a
    member without a wallet yet holds nothing), except wallets last lowered by a take-back:
    what an admin took back stays taken until the member spends again. A read: the
    evaluation re-checks each member under its locks."""
    rules = rules_by_member(organization=organization, kinds=AUTO_KINDS)
    if not rules:
        return []
    last_debit = (
        Transfer.objects.for_org(organization)
        .filter(source=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("kind")[:1]
    )
    wallets = {
        member_id: (balance, last_kind)
        for member_id, balance, last_kind in Account.objects.for_org(organization)
        .filter(member_id__in=list(rules))
        .annotate(last_debit=Subquery(last_debit))
        .values_list("member_id", "balance", "last_debit")
    }
    due = []
    for member_id, rule in rules.items():
        balance, last_kind = wallets.get(member_id, (0, None))
        if balance < rule.threshold.amount and last_kind != Transfer.Kind.TAKE_BACK:
            due.append(member_id)
    return sorted(due)


def member_auto_recharges(
    *, organization: Organization, member_ids: list[int]
) -> list[RechargeOutcome]:
    """Evaluate the auto-recharge of these members, one transaction each."""
    rules = rules_by_member(organization=organization, kinds=AUTO_KINDS, member_ids=member_ids)
    outcomes = []
    for member in Member.objects.for_org(organization).filter(pk__in=list(rules)).order_by("pk"):
        outcome = member_auto_recharge(
            organization=organization, member=member, rule=rules[member.pk]
        )
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def member_auto_recharges_due(*, organization: Organization) -> list[RechargeOutcome]:
    """Evaluate every member due for an auto-recharge (see `members_due_for_recharge`)."""
    return member_auto_recharges(
        organization=organization,
        member_ids=members_due_for_recharge(organization=organization),
    )


# --- Reacting to balances -----------------------------------------------------------------------


def balances_dropped_handle(
    *, organization: Organization, account_ids: list[int], kinds: list[str]
) -> None:
    """After a posting lowered these wallets: members' auto-recharges (unless the posting was
    only take-backs), then, when the company balance went down, the company auto-recharge and
    the low-balance warning."""
    accounts = list(
        Account.objects.for_org(organization)
        .filter(pk__in=account_ids)
        .select_related("member")
        .order_by("pk")
    )
    if set(kinds) - {Transfer.Kind.TAKE_BACK}:
        for account in accounts:
            if account.kind == Account.Kind.MEMBER:
                member_auto_recharge(organization=organization, member=account.member)
    if any(account.kind == Account.Kind.ORGANIZATION for account in accounts):
        company_auto_recharge_check(organization=organization)
        low_balance_check(organization=organization)


def organization_balances_check(*, organization: Organization) -> None:
    """The periodic check of one organization's company balance: the company auto-recharge,
    and the low-balance warning (sent, or re-armed after a purchase). Members below their
    thresholds are `members_due_for_recharge`, evaluated by the caller (in batches)."""
    company_auto_recharge_check(organization=organization)
    low_balance_check(organization=organization)


def organizations_to_check() -> list[int]:
    """Ids of the organizations the periodic check should look at: those with an active member
    auto-recharge rule, and those whose company auto-recharge or low-balance warning may have
    something to do. Reads every organization: the beat sweep's query."""
    with all_tenants("the auto-recharge sweep looks at every organization"):
        company_balance = Coalesce(
            Subquery(
                Account.objects.filter(
                    organization=OuterRef("organization"),
                    kind=Account.Kind.ORGANIZATION,
                    member=None,
                ).values("balance")[:1]
            ),
            Value(0),
            output_field=models.DecimalField(max_digits=19, decimal_places=4),
        )
        with_rules = set(
            CreditRule.objects.filter(active=True, kind__in=AUTO_KINDS).values_list(
                "organization_id", flat=True
            )
        )
        settings_due = set(
            CreditSettings.objects.annotate(company=company_balance)
            .filter(
                Q(auto_recharge_enabled=True, company__lt=models.F("auto_recharge_threshold"))
                | Q(
                    low_balance_warning__gt=0,
                    low_balance_warned_at__isnull=True,
                    company__lt=models.F("low_balance_warning"),
                )
                | Q(low_balance_warned_at__isnull=False)
                & (Q(low_balance_warning=0) | Q(company__gte=models.F("low_balance_warning")))
            )
            .values_list("organization_id", flat=True)
        )
    return sorted(with_rules | settings_due)
