"""Managing credit rules: creating, pausing, resuming and deleting them (owners and admins).

Owns CreditRule rows. One rule per family (auto-recharge; monthly) and target; each change
writes one audit event.
"""

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from djmoney.money import Money

from credit.models import CreditRule, CreditRuleRun
from credit.selectors.rules import AUTO_KINDS, MONTHLY_KINDS, target_taken
from credit.selectors.spending import local_month
from credit.services.ledger import amount_of
from members.models import MemberList
from organizations.audit import audit_record
from organizations.models import AuditEvent, Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError


class Target(models.TextChoices):
    EVERYONE = "everyone", gettext_lazy("Everyone")
    LIST = "list", gettext_lazy("A list")
    MEMBER = "member", gettext_lazy("A member")


class Start(models.TextChoices):
    THIS_MONTH = "this_month", gettext_lazy("This month: the first credit is given within minutes")
    NEXT_MONTH = "next_month", gettext_lazy("On the 1st of next month")


def _require_manager(actor: Member) -> None:
    if not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(_("Only owners and admins change credit rules."), code="denied")


def _amount(value, organization: Organization, field: str) -> Money:
    try:
        return amount_of(value, organization.currency)
    except ApplicationError as error:
        raise ApplicationError(error.message, field=field, code=error.code) from None


def _target(
    organization: Organization,
    target: str,
    member: Member | None,
    member_list: MemberList | None,
) -> tuple[Member | None, MemberList | None]:
    if target == Target.EVERYONE:
        return None, None
    if target == Target.LIST:
        if member_list is None or member_list.organization_id != organization.pk:
            raise ApplicationError(_("Choose a list."), field="member_list", code="required")
        return None, member_list
    if target == Target.MEMBER:
        if member is None or member.organization_id != organization.pk:
            raise ApplicationError(_("Choose a member."), field="member", code="required")
        if member.status == Member.Status.REMOVED:
            raise ApplicationError(
                _("%(name)s left the organization.") % {"name": member}, field="member"
            )
        return member, None
    raise ApplicationError(_("Choose whom the rule is for."), field="target", code="required")


def credit_rule_create(
    *,
    organization: Organization,
    actor: Member,
    kind: str,
    target: str,
    amount,
    member: Member | None = None,
    member_list: MemberList | None = None,
    threshold=None,
    monthly_max=None,
    start: str = Start.THIS_MONTH,
    idempotency_key: str = "",
    ip_address: str | None = None,
) -> CreditRule:
    """Create a rule for a member, a list, or everyone.

    An auto-recharge needs a threshold and a monthly maximum at least as large as its amount.
    One rule per family (auto-recharge; monthly) and target: a second is refused. A monthly
    rule starting next month gets this month's run row at once, empty, so that the sweep skips
    this month. Locks the organization row (two admins creating the same rule at once get one
    rule and one refusal); the form's one-time `idempotency_key` makes a double submit create
    one rule.
    """
    _require_manager(actor)
    if kind not in CreditRule.Kind.values:
        raise ApplicationError(_("Choose a kind of rule."), field="kind", code="required")
    member, member_list = _target(organization, target, member, member_list)
    money = _amount(amount, organization, "amount")
    if kind in AUTO_KINDS:
        if threshold in (None, ""):
            raise ApplicationError(
                _("Say below which balance to recharge."), field="threshold", code="required"
            )
        if monthly_max in (None, ""):
            raise ApplicationError(
                _("Say how much may be recharged each month at most."),
                field="monthly_max",
                code="required",
            )
        threshold = _amount(threshold, organization, "threshold")
        monthly_max = _amount(monthly_max, organization, "monthly_max")
        if monthly_max < money:
            raise ApplicationError(
                _("The monthly maximum must be at least the recharge amount (%(amount)s).")
                % {"amount": money},
                field="monthly_max",
            )
    else:
        threshold = monthly_max = None

    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        if idempotency_key:
            done = (
                AuditEvent.objects.for_org(organization)
                .filter(verb="credit_rule.created", data__key=idempotency_key)
                .first()
            )
            if done is not None:
                rule = CreditRule.objects.for_org(organization).filter(pk=done.target_id).first()
                if rule is not None:
                    return rule
        taken = target_taken(
            organization=organization,
            kind=kind,
            member_id=member.pk if member else None,
            member_list_id=member_list.pk if member_list else None,
        )
        if taken is not None:
            raise ApplicationError(
                _(
                    "They already have a rule of this kind: “%(rule)s”. "
                    "Delete it first, or choose another target."
                )
                % {"rule": taken.get_kind_display()},
                code="duplicate",
            )
        rule = CreditRule.objects.create(
            organization=organization,
            kind=kind,
            member=member,
            member_list=member_list,
            amount=money,
            threshold=threshold,
            monthly_max=monthly_max,
            created_by=actor,
        )
        if kind in MONTHLY_KINDS and start == Start.NEXT_MONTH:
            CreditRuleRun.objects.create(
                organization=organization,
                rule=rule,
                period=local_month(organization),
                total=Money(0, organization.currency),
                note=_("Created to start on the 1st of next month."),
            )
        audit_record(
            organization=organization,
            actor=actor,
            verb="credit_rule.created",
            target=rule,
            data={
                "kind": kind,
                "member": member.pk if member else None,
                "list": member_list.pk if member_list else None,
                "amount": str(money.amount),
                "threshold": str(threshold.amount) if threshold else None,
                "monthly_max": str(monthly_max.amount) if monthly_max else None,
                "start": start if kind in MONTHLY_KINDS else None,
                "key": idempotency_key or None,
            },
            ip_address=ip_address,
        )
    return rule


def _rule_lock(organization: Organization, rule: CreditRule) -> CreditRule:
    locked = CreditRule.objects.for_org(organization).select_for_update().filter(pk=rule.pk)
    found = locked.first()
    if found is None:
        raise ApplicationError(_("This rule no longer exists."), code="not_found")
    return found


def credit_rule_set_active(
    *,
    organization: Organization,
    actor: Member,
    rule: CreditRule,
    active: bool,
    ip_address: str | None = None,
) -> CreditRule:
    """Pause or resume a rule; a paused rule gives nothing. Locks the rule row."""
    _require_manager(actor)
    with transaction.atomic():
        rule = _rule_lock(organization, rule)
        if rule.active == active:
            return rule
        rule.active = active
        rule.save(update_fields=["active"])
        audit_record(
            organization=organization,
            actor=actor,
            verb="credit_rule.resumed" if active else "credit_rule.paused",
            target=rule,
            ip_address=ip_address,
        )
    return rule


def credit_rule_delete(
    *,
    organization: Organization,
    actor: Member,
    rule: CreditRule,
    ip_address: str | None = None,
) -> None:
    """Delete a rule and its run records. Credit it gave stays with the members (the transfers
    are the history). Locks the rule row, so a run in progress finishes first."""
    _require_manager(actor)
    with transaction.atomic():
        rule = _rule_lock(organization, rule)
        audit_record(
            organization=organization,
            actor=actor,
            verb="credit_rule.deleted",
            target=rule,
            data={
                "kind": rule.kind,
                "member": rule.member_id,
                "list": rule.member_list_id,
                "amount": str(rule.amount.amount),
            },
            ip_address=ip_address,
        )
        rule.delete()
