"""What assigning a plan would do before it is confirmed (the preview): who receives it, who
is left out and why, each line's price, the total and the company balance after. Reads only.
"""

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from credit.selectors.balances import company_balance
from organizations.models import Member, Organization
from subscriptions.models import MemberFeatures, Plan, Subscription
from subscriptions.services.assign import ACCESS_FIELD

NOT_JOINED = _("has not joined yet")
SUSPENDED = _("is suspended")
FORMER = _("is a former member")
NO_ACCESS = _("may not use this kind of feature (see their access)")
ALREADY = _("already has this feature")


@dataclass(frozen=True)
class AssignLine:
    member: Member
    price: Money


@dataclass(frozen=True)
class AssignPlan:
    """What a confirmation would assign and charge."""

    plan: Plan
    period_months: int
    price: Money
    lines: list[AssignLine]
    left_out: list[tuple[Member, str]]
    company_before: Money

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def members(self) -> list[Member]:
        return [line.member for line in self.lines]

    @property
    def total(self) -> Money:
        return self.price * len(self.lines)

    @property
    def company_after(self) -> Money:
        return self.company_before - self.total

    @property
    def missing(self) -> Money | None:
        """What the company balance lacks to pay for the first periods, or None."""
        after = self.company_after
        return -after if after.amount < 0 else None

    @property
    def fingerprint(self) -> str:
        """Who the preview included: the confirmation must find the same people."""
        text = ",".join(str(line.member.pk) for line in sorted(self.lines, key=_pk))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def can_confirm(self) -> bool:
        return bool(self.lines) and self.missing is None


def _pk(line: AssignLine) -> int:
    return line.member.pk


def assign_preview(
    *,
    organization: Organization,
    members: QuerySet[Member] | list[Member],
    plan: Plan,
    period_months: int,
    price: Money,
) -> AssignPlan:
    """The preview of assigning `plan` to `members` (three queries, whatever their number)."""
    members = list(members)
    ids = [member.pk for member in members]
    denied = set(
        MemberFeatures.objects.for_org(organization)
        .filter(member_id__in=ids, **{ACCESS_FIELD[plan.kind]: False})
        .values_list("member_id", flat=True)
    )
    holding = set(
        Subscription.objects.for_org(organization)
        .filter(member_id__in=ids, plan=plan, status__in=Subscription.LIVE)
        .values_list("member_id", flat=True)
    )
    lines, left_out = [], []
    for member in members:
        reason = None
        if member.status == Member.Status.INVITED:
            reason = NOT_JOINED
        elif member.status == Member.Status.SUSPENDED:
            reason = SUSPENDED
        elif member.status == Member.Status.REMOVED:
            reason = FORMER
        elif member.pk in denied:
            reason = NO_ACCESS
        elif member.pk in holding:
            reason = ALREADY
        if reason is None:
            lines.append(AssignLine(member, price))
        else:
            left_out.append((member, reason))
    return AssignPlan(
        plan=plan,
        period_months=period_months,
        price=price,
        lines=lines,
        left_out=left_out,
        company_before=company_balance(organization=organization),
    )
