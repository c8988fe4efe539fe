"""Reads of balances: the company's, each member's, and what an allocation or a take-back would
do before it is confirmed (the preview). Always given the organization; never writes (no
account is created here: a member without a wallet simply holds nothing).
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from credit.models import Account, CreditSettings
from members.models import ListMembership, MemberList
from members.selectors.directory import SORTS
from organizations.models import Member, Organization
from organizations.roles import Role

Status = Member.Status


class Target(models.TextChoices):
    """Whose credit an allocation or a take-back moves."""

    SELECTED = "selected", _("The members chosen in the directory")
    LIST = "list", _("The members of a list")
    EVERYONE = "everyone", _("Everyone")


def _ids(members: Iterable) -> list[int]:
    return [member.pk if isinstance(member, Member) else int(member) for member in members]


def company_balance(*, organization: Organization) -> Money:
    amount = (
        Account.objects.for_org(organization)
        .filter(kind=Account.Kind.ORGANIZATION, member=None)
        .values_list("balance", flat=True)
        .first()
    )
    return Money(amount or Decimal(0), organization.currency)


def may_buy(*, organization: Organization, member: Member) -> bool:
    """Whether `member` may buy credit: owners, and the finance members an owner allowed.
    The one place of this rule: the purchase service enforces it, pages offer the way to buy
    with it."""
    if member.role == Role.OWNER:
        return True
    if member.role != Role.FINANCE:
        return False
    return CreditSettings.objects.for_org(organization).filter(purchasers=member).exists()


def member_balances(*, organization: Organization, members: Iterable) -> dict[int, Money]:
    """{member id: balance} in one query; members without a wallet are left out (they hold
    nothing)."""
    rows = (
        Account.objects.for_org(organization)
        .filter(kind=Account.Kind.MEMBER, member_id__in=_ids(members))
        .values_list("member_id", "balance")
    )
    return {member_id: Money(amount, organization.currency) for member_id, amount in rows}


@dataclass(frozen=True)
class MemberCredit:
    balance: Money
    # What usage may spend in a calendar month; None: no limit.
    monthly_spending_cap: Money | None
    has_wallet: bool


def member_credit(*, organization: Organization, member: Member) -> MemberCredit:
    """A member's balance and monthly spending cap (one query)."""
    wallet = (
        Account.objects.for_org(organization)
        .filter(kind=Account.Kind.MEMBER, member=member)
        .only(
            "balance", "balance_currency", "monthly_spending_cap", "monthly_spending_cap_currency"
        )
        .first()
    )
    if wallet is None:
        return MemberCredit(Money(0, organization.currency), None, has_wallet=False)
    return MemberCredit(wallet.balance, wallet.monthly_spending_cap, has_wallet=True)


def credit_target_members(
    *,
    organization: Organization,
    target: str,
    members: Sequence = (),
    member_list: MemberList | None = None,
    holding_credit: bool = False,
) -> QuerySet[Member]:
    """The members a target names, in directory order.

    `members` (selected) and `member_list` must be the organization's (forms check it).
    Everyone is every active member when giving credit; when taking it back
    (`holding_credit`), everyone who holds some, whatever their status.
    """
    found = _with_balance(organization, Member.objects.for_org(organization))
    if target == Target.SELECTED:
        found = found.filter(pk__in=_ids(members))
    elif target == Target.LIST:
        in_list = ListMembership.objects.for_org(organization).filter(member_list=member_list)
        found = found.filter(pk__in=in_list.values("member_id"))
    elif holding_credit:
        holders = Account.objects.for_org(organization).filter(
            kind=Account.Kind.MEMBER, balance__gt=0
        )
        found = found.filter(pk__in=holders.values("member_id"))
    else:
        found = found.filter(status=Status.ACTIVE)
    return found.order_by(*SORTS["name"])


# What a preview and a confirmation read of each member (thousands of them, for everyone).
_TARGET_FIELDS = ("organization_id", "status", "display_name", "email", "phone", "username")


def _with_balance(organization: Organization, members: QuerySet[Member]) -> QuerySet[Member]:
    """Members with `wallet_balance` (their wallet's balance; None without a wallet), read in
    the same query, and only the fields a preview shows."""
    wallets = Account.objects.for_org(organization).filter(
        kind=Account.Kind.MEMBER, member=models.OuterRef("pk")
    )
    return members.only(*_TARGET_FIELDS).annotate(
        wallet_balance=models.Subquery(wallets.values("balance")[:1])
    )


def _balances_of(organization: Organization, members: list[Member]) -> dict[int, Decimal]:
    """{member id: balance amount}, from `wallet_balance` when the members were read with it
    (credit_target_members), else in one query."""
    if all(hasattr(member, "wallet_balance") for member in members):
        return {member.pk: member.wallet_balance or Decimal(0) for member in members}
    found = member_balances(organization=organization, members=members)
    return {
        member.pk: found[member.pk].amount if member.pk in found else Decimal(0)
        for member in members
    }


# The lines a preview lists by name (credit/_credit_preview_lines.html shows as many).
PREVIEW_LINES = 200


class _People:
    """The people of a plan: for each, id, status and balance; their member rows as needed.

    Given a queryset (credit_target_members) only the ids, statuses and balances of all are
    read, in one query; the member rows of the people a preview names (its first lines,
    everyone left out or short) are read in one more, when first shown, and the others only
    if asked. Given member rows, they are used as they are.
    """

    def __init__(self, organization: Organization, members):
        if isinstance(members, QuerySet):
            self.queryset = members
            self.rows = [
                (pk, status, balance or Decimal(0))
                for pk, status, balance in members.values_list("pk", "status", "wallet_balance")
            ]
            self.loaded: dict[int, Member] = {}
        else:
            members = list(members)
            balances = _balances_of(organization, members)
            self.queryset = None
            self.rows = [(member.pk, member.status, balances[member.pk]) for member in members]
            self.loaded = {member.pk: member for member in members}
        self.named: set[int] = set()

    def member(self, pk: int) -> Member:
        if pk not in self.loaded:
            wanted = self.named if pk in self.named else None
            found = self.queryset.filter(pk__in=wanted) if wanted else self.queryset
            self.loaded.update((member.pk, member) for member in found)
            # Gone since the first read (a revoked invitation): shown without a name.
            self.loaded.setdefault(pk, Member(pk=pk))
        return self.loaded[pk]

    def name(self, *groups) -> None:
        """Say who a preview names, before any of them is shown."""
        for group in groups:
            self.named.update(group)


@dataclass(frozen=True)
class PlanLine:
    """One member of a plan: what they hold and what moves (negative: taken back). Amounts
    are kept as numbers and shown as money on demand: a plan may hold thousands of lines."""

    member_id: int
    held: Decimal
    moved: Decimal
    currency: str
    people: _People = field(repr=False, compare=False)

    @property
    def member(self) -> Member:
        return self.people.member(self.member_id)

    @property
    def balance(self) -> Money:
        return Money(self.held, self.currency)

    @property
    def amount(self) -> Money:
        return Money(self.moved, self.currency)

    @property
    def after(self) -> Money:
        return Money(self.held + self.moved, self.currency)


@dataclass
class CreditPlan:
    """What a confirmation would move. `lines` are the members it moves credit for;
    `left_out` who was named but is not included, with the reason; `short` (take-back) who
    holds less than asked, which blocks the confirmation."""

    lines: list[PlanLine]
    left_out: list[tuple[Member, str]]
    total: Money
    company_before: Money
    company_after: Money
    short: list[PlanLine] = field(default_factory=list)
    # Allocation: what the company balance lacks to cover the total.
    missing: Money | None = None

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def member_ids(self) -> list[int]:
        return [line.member_id for line in self.lines]

    @property
    def fingerprint(self) -> str:
        """Who the plan moves credit for: the confirmation must find the same people."""
        text = ",".join(str(pk) for pk in sorted(self.member_ids))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def can_confirm(self) -> bool:
        return bool(self.lines) and not self.short and self.missing is None


# Why someone named is not part of an allocation or a take-back.
NOT_JOINED = _("has not joined yet")
FORMER = _("is a former member")
HOLDS_NOTHING = _("holds no credit")


def _left_out(people: _People, left_out: list[tuple[int, str]]) -> list[tuple[Member, str]]:
    return [(people.member(pk), reason) for pk, reason in left_out]


def allocation_preview(*, organization: Organization, members, amount: Money) -> CreditPlan:
    """Giving `amount` to each member: active and suspended members receive it; people
    invited who have not joined (they have no balance yet) and former members do not.

    `members`: member rows, or the queryset of credit_target_members (then only the people
    the preview names are read as rows: see _People)."""
    people = _People(organization, members)
    currency, each = organization.currency, amount.amount
    lines, left_out = [], []
    for pk, status, held in people.rows:
        if status == Status.INVITED:
            left_out.append((pk, NOT_JOINED))
        elif status == Status.REMOVED:
            left_out.append((pk, FORMER))
        else:
            lines.append(PlanLine(pk, held, each, currency, people))
    people.name([line.member_id for line in lines[:PREVIEW_LINES]], [pk for pk, _ in left_out])
    total = amount * len(lines)
    before = company_balance(organization=organization)
    missing = total - before if total > before else None
    return CreditPlan(
        lines=lines,
        left_out=_left_out(people, left_out),
        total=total,
        company_before=before,
        company_after=before - total,
        missing=missing,
    )


def take_back_preview(*, organization: Organization, members, amount: Money | None) -> CreditPlan:
    """Taking `amount` back from each member, or all they hold when `amount` is None.

    People invited who have not joined hold nothing and are left out, as are members holding
    nothing when taking all of it; a member holding less than `amount` is `short`.
    `members`: as for allocation_preview.
    """
    people = _People(organization, members)
    currency = organization.currency
    each = amount.amount if amount is not None else None
    lines, left_out, short = [], [], []
    for pk, status, held in people.rows:
        if status == Status.INVITED:
            left_out.append((pk, NOT_JOINED))
        elif each is None and held <= 0:
            left_out.append((pk, HOLDS_NOTHING))
        elif each is not None and held < each:
            short.append(PlanLine(pk, held, -each, currency, people))
        else:
            taken = each if each is not None else held
            lines.append(PlanLine(pk, held, -taken, currency, people))
    people.name(
        [line.member_id for line in lines[:PREVIEW_LINES]],
        [line.member_id for line in short],
        [pk for pk, _ in left_out],
    )
    total = Money(sum((-line.moved for line in lines), start=Decimal(0)), currency)
    before = company_balance(organization=organization)
    return CreditPlan(
        lines=lines,
        left_out=_left_out(people, left_out),
        short=short,
        total=total,
        company_before=before,
        company_after=before + total,
    )
