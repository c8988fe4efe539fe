"""Assigning a plan to members: all or nothing, once per form key, the first period charged at
once from the company balance (one transfer per subscription).

Owns Subscription creation and the first Renewal of each. Online numbers start as
`provisioning`: a task buys each number after commit (subscriptions.tasks.numbers).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account
from credit.services.allocation import CompanyBalanceShort
from credit.services.auto_recharge import auto_recharge_start_if_needed
from credit.services.ledger import InsufficientFunds, system_account, transfers_post
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.after_commit import task_after_commit
from skypemgr.errors import ApplicationError
from subscriptions.models import MemberFeatures, Plan, Renewal, Subscription
from subscriptions.periods import anchor_day_of, period_end
from subscriptions.selectors.catalog import price_for
from subscriptions.services.charges import charge_movement
from subscriptions.services.twilio_numbers import numbers_available

# Which access switch (MemberFeatures) a plan's kind needs.
ACCESS_FIELD = {
    Plan.Kind.CALLING: "may_call",
    Plan.Kind.NUMBER: "may_numbers",
    Plan.Kind.VOICEMAIL: "may_voicemail",
}
AUDIT_NAMES = 3


@dataclass(frozen=True)
class Assignment:
    """What `subscriptions_assign` did; `replayed` when the form was sent before (nothing new)."""

    subscriptions: list[Subscription]
    total: Money
    replayed: bool


def _require_manager(actor: Member | None) -> None:
    if actor is not None and not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(_("Only owners and admins assign features."), code="denied")


def assignable_members(
    *, organization: Organization, plan: Plan, members: Sequence
) -> list[Member]:
    """The members (rows or ids) as this organization's, in id order, refusing anyone who has
    not joined, has left, or may not use this kind of feature (their access settings)."""
    ids = {member.pk if isinstance(member, Member) else int(member) for member in members}
    if not ids:
        raise ApplicationError(_("Choose at least one member."), code="empty")
    found = list(Member.objects.for_org(organization).filter(pk__in=ids).order_by("pk"))
    if len(found) != len(ids):
        raise ApplicationError(_("Some of these people are not members here."), code="not_found")
    unable = [member for member in found if member.status != Member.Status.ACTIVE]
    if unable:
        raise ApplicationError(
            _("%(names)s cannot receive features: only active members who joined can.")
            % {"names": ", ".join(str(member) for member in unable[:5])},
            code="not_active",
        )
    field = ACCESS_FIELD[plan.kind]
    denied_ids = set(
        MemberFeatures.objects.for_org(organization)
        .filter(member_id__in=ids, **{field: False})
        .values_list("member_id", flat=True)
    )
    if denied_ids:
        denied = [member for member in found if member.pk in denied_ids]
        raise ApplicationError(
            _("%(names)s may not use %(kind)s (see their access on their page).")
            % {
                "names": ", ".join(str(member) for member in denied[:5]),
                "kind": plan.get_kind_display().lower(),
            },
            code="access",
        )
    return found


def plan_price(*, organization: Organization, plan: Plan, period_months: int) -> Money:
    """The plan's price for the period in the organization's currency, or ApplicationError
    when the catalog does not sell it so."""
    if not plan.active:
        raise ApplicationError(_("This plan is no longer offered."), code="plan")
    price = price_for(plan=plan, currency=organization.currency, period_months=period_months)
    if price is None:
        raise ApplicationError(
            _("This plan is not sold for that period in %(currency)s.")
            % {"currency": organization.currency},
            code="plan",
        )
    return price


def subscriptions_assign(**arguments) -> Assignment:
    """Assign (see `_assign`); when the company balance is short, start the company's
    automatic recharge if it is on, and say so on the error (`recharge_started`)."""
    try:
        return _assign(**arguments)
    except CompanyBalanceShort as short:
        short.recharge_started = (
            auto_recharge_start_if_needed(organization=arguments["organization"]) is not None
        )
        raise


def _assign(
    *,
    organization: Organization,
    actor: Member | None,
    members: Sequence,
    plan: Plan,
    period_months: int,
    form_key: str,
    number_country: str = "",
    number_area: str = "",
    number_requested: str = "",
    ip_address: str | None = None,
) -> Assignment:
    """Give each member `plan` for `period_months`, charging the first period now.

    All or nothing: when the company balance is short, nothing is created and
    CompanyBalanceShort says how much is missing. A form key seen before is a replay: the
    subscriptions it created come back and nothing is charged again. Two posts of one key
    are serialized by an advisory lock on it, taken before the ledger's locks.
    """
    _require_manager(actor)
    if not form_key:
        raise ApplicationError(_("This form has expired. Start again."), code="form_key")
    price = plan_price(organization=organization, plan=plan, period_months=period_months)
    targets = assignable_members(organization=organization, plan=plan, members=members)
    if plan.kind == Plan.Kind.NUMBER and not numbers_available():
        raise ApplicationError(
            _("Online numbers cannot be bought on this server: no telephony provider is set up."),
            code="numbers_unavailable",
        )
    if plan.kind == Plan.Kind.NUMBER and len(targets) > 1 and number_requested:
        raise ApplicationError(
            _("One number can go to one member only: choose “any number” for several."),
            code="number",
        )
    now = timezone.now()
    zone = organization.time_zone
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"subscriptions_assign:{organization.pk}:{form_key}"],
            )
        earlier = list(
            Subscription.objects.for_org(organization)
            .filter(form_key=form_key)
            .select_related("plan", "member")
            .order_by("pk")
        )
        if earlier:
            total = sum(
                (Money(r.amount, organization.currency) for r in _first(organization, earlier)),
                price * 0,
            )
            return Assignment(earlier, total=total, replayed=True)
        anchor = anchor_day_of(now, zone)
        end = period_end(now, period_months, anchor_day=anchor, time_zone=zone)
        number = plan.kind == Plan.Kind.NUMBER
        status = Subscription.Status.PROVISIONING if number else Subscription.Status.ACTIVE
        created = Subscription.objects.bulk_create(
            Subscription(
                organization=organization,
                member=member,
                plan=plan,
                status=status,
                period_months=period_months,
                anchor_day=anchor,
                period_start=now,
                period_end=end,
                number_country=(number_country or plan.country) if number else "",
                number_area=number_area if number else "",
                number_requested=number_requested if number else "",
                created_by=actor,
                form_key=form_key,
            )
            for member in targets
        )
        company = system_account(organization, Account.Kind.ORGANIZATION)
        bucket = system_account(organization, Account.Kind.SUBSCRIPTIONS)
        movements = [
            charge_movement(
                organization=organization,
                subscription=subscription,
                period_start=now,
                amount=price,
                company=company,
                subscriptions_account=bucket,
            )
            for subscription in created
        ]
        try:
            transfers = transfers_post(organization=organization, actor=actor, movements=movements)
        except InsufficientFunds:
            transfers = None
        if transfers is None:
            total = price * len(created)
            balance = Account.objects.for_org(organization).get(pk=company.pk).balance
            raise CompanyBalanceShort(
                _("The company balance (%(balance)s) is short by %(missing)s for %(total)s.")
                % {"balance": balance, "missing": total - balance, "total": total},
                missing=total - balance,
            )
        Renewal.objects.bulk_create(
            Renewal(
                organization=organization,
                subscription=subscription,
                period_start=now,
                period_end=end,
                period_months=period_months,
                amount=price.amount,
                status=Renewal.Status.PAID,
                transfer=transfer,
                attempts=1,
                last_attempt_at=now,
            )
            for subscription, transfer in zip(created, transfers, strict=True)
        )
        audit_record(
            organization=organization,
            actor=actor,
            verb="feature.assigned",
            target=created[0].member if len(created) == 1 else None,
            data={
                "plan": plan.code,
                "plan_name": plan.name,
                "months": period_months,
                "members": len(created),
                "amount": str(price.amount),
                "total": str((price * len(created)).amount),
                "names": [str(subscription.member) for subscription in created[:AUDIT_NAMES]],
                "key": form_key,
            },
            ip_address=ip_address,
        )
        if number:
            from subscriptions.tasks.numbers import number_provision

            # Lost with the broker down: the provisioning sweep buys it.
            for subscription in created:
                task_after_commit(number_provision, organization.pk, subscription.pk)
    return Assignment(created, total=price * len(created), replayed=False)


def _first(organization: Organization, subscriptions: list[Subscription]) -> list[Renewal]:
    """Each subscription's first period (what the assign form charged)."""
    return list(
        Renewal.objects.for_org(organization)
        .filter(subscription__in=subscriptions)
        .order_by("subscription_id", "period_start")
        .distinct("subscription_id")
    )
