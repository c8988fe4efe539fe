"""Allocating credit to members and taking it back (owners and admins).

Allocate and take back are three steps, each a POST of the same form: choose (whose credit,
how much), preview (who, how many, the total, the company balance after), confirm. The form
carries a one-time key made when it is first shown; the transfers are keyed by it, so a form
sent twice moves money once, and a second confirmation says it was already done.

The directory's bulk bar posts the selected members here (`members=<id>`, with the CSRF token
in the body rather than in a URL); a GET with `?members=<id>` preselects them too.

Who receives credit: active and suspended members (a suspension is temporary; the credit
waits for them). People invited who have not joined have no balance yet, and former members
receive nothing: both are left out of a preview, with the reason shown. Credit can be taken
back from anyone who holds some, former members included.
"""

import uuid

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from credit.forms.allocation import (
    AllocateForm,
    MemberAllocateForm,
    MemberTakeBackForm,
    SpendingCapForm,
    TakeBackForm,
    new_key,
)
from credit.selectors.balances import (
    CreditPlan,
    Target,
    allocation_preview,
    credit_target_members,
    may_buy,
    take_back_preview,
)
from credit.selectors.balances import member_credit as member_credit_of
from credit.selectors.history import member_transfers
from credit.services.allocation import (
    ALLOCATE,
    TAKE_BACK,
    CompanyBalanceShort,
    credit_allocate,
    credit_allocate_once,
    credit_take_back,
    form_already_posted,
    form_idempotency_key,
)
from credit.services.caps import member_spending_cap_set
from organizations.models import Member
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error

START, EDIT, PREVIEW, CONFIRM = "start", "edit", "preview", "confirm"
RECENT_MOVEMENTS = 10
# One page for both directions, and one for their check (`taking_back` tells which).
MOVE, MOVE_PREVIEW = "credit/credit_move.html", "credit/credit_move_preview.html"


def _with_key(data: QueryDict, name: str = "idempotency_key") -> QueryDict:
    """The posted data, with a fresh one-time key if it came without a valid one (the form
    shown again then carries a key that works)."""
    try:
        uuid.UUID(str(data.get(name, "")))
    except ValueError:
        data = data.copy()
        data[name] = new_key()
    return data


def _named_members(data: QueryDict) -> list[str]:
    return data.getlist("members")


def _target_form(request, form_class):
    """The form for this request and the step asked for."""
    organization = request.org
    source = request.POST if request.method == "POST" else request.GET
    step = request.POST.get("step", START) if request.method == "POST" else START
    if step not in (EDIT, PREVIEW, CONFIRM):
        members = _named_members(source)
        initial = {
            "members": members,
            "target": Target.SELECTED if members else "",
            "idempotency_key": new_key(),
        }
        return form_class(organization=organization, initial=initial), START
    return form_class(_with_key(request.POST), organization=organization), step


def _hidden_fields(form) -> list[tuple[str, str]]:
    """The posted values of the form's fields, to carry them through the preview."""
    pairs = []
    for name in form.fields:
        if name == "expected":
            continue
        for value in form.data.getlist(form.add_prefix(name)):
            pairs.append((form.add_prefix(name), value))
    return pairs


def _already_done(request, action: str, form, members) -> bool:
    """Whether this form's transfers were posted (the form was sent before)."""
    return form_already_posted(
        organization=request.org,
        action=action,
        form_key=form.key,
        members=members,
        issued_at=form.issued_at,
    )


def _targets(request, form, *, holding_credit: bool, step: str):
    """The members the form names: for a confirmation, their rows (the service takes them);
    for a preview, the query (the preview reads rows only for the people it names)."""
    data = form.cleaned_data
    members = credit_target_members(
        organization=request.org,
        target=data["target"],
        members=data.get("members") or (),
        member_list=data.get("member_list"),
        holding_credit=holding_credit,
    )
    return list(members) if step == CONFIRM else members


def _render_preview(request, form, plan: CreditPlan, *, taking_back: bool, **extra):
    return render(
        request,
        MOVE_PREVIEW,
        {
            "taking_back": taking_back,
            "form": form,
            "plan": plan,
            "hidden_fields": _hidden_fields(form),
            "may_buy": may_buy(organization=request.org, member=request.member),
            **extra,
        },
    )


@require_http_methods(["GET", "POST"])
def allocate(request):
    """Give credit from the company balance to members: choose, preview, confirm.

    A confirmation reads the members once (here; the service takes these rows) and leaves
    the rest to the service: whether the form was sent before, and the company balance,
    both decided under its locks."""
    form, step = _target_form(request, AllocateForm)
    if step in (START, EDIT) or not form.is_valid():
        return render(request, MOVE, {"form": form, "taking_back": False})
    members = _targets(request, form, holding_credit=False, step=step)
    amount = form.cleaned_data["amount"]
    plan = allocation_preview(organization=request.org, members=members, amount=amount)
    if not plan.lines:
        if step == CONFIRM and _already_done(request, ALLOCATE, form, members):
            return _allocated_before(request)
        form.add_error(None, _("None of these people can receive credit."))
        return render(
            request, MOVE, {"form": form, "taking_back": False, "left_out": plan.left_out}
        )
    changed = step == CONFIRM and form.cleaned_data.get("expected") != plan.fingerprint
    if step == PREVIEW or changed:
        return _render_preview(request, form, plan, taking_back=False, changed=changed)
    try:
        allocation = credit_allocate_once(
            organization=request.org,
            actor=request.member,
            members=[line.member for line in plan.lines],
            amount=amount,
            idempotency_key=form_idempotency_key(action=ALLOCATE, form_key=form.key),
            memo=form.cleaned_data.get("memo", ""),
            ip_address=client_ip(request),
        )
    except CompanyBalanceShort:
        # The balance fell between the preview and now: show the preview as it is now.
        plan = allocation_preview(organization=request.org, members=members, amount=amount)
        return _render_preview(request, form, plan, taking_back=False)
    except ApplicationError as error:
        form.add_error(None, error.message)
        return render(request, MOVE, {"form": form, "taking_back": False})
    if allocation.replayed:
        return _allocated_before(request)
    messages.success(
        request,
        ngettext(
            "%(amount)s allocated to %(count)d member (%(total)s in all).",
            "%(amount)s allocated to each of %(count)d members (%(total)s in all).",
            plan.count,
        )
        % {"amount": amount, "count": plan.count, "total": plan.total},
    )
    return redirect("credit:overview", org_slug=request.org.slug)


def _allocated_before(request):
    messages.info(request, _("This allocation was already made; the credit moved once."))
    return redirect("credit:overview", org_slug=request.org.slug)


@require_http_methods(["GET", "POST"])
def take_back(request):
    """Return members' credit to the company balance: choose, preview, confirm."""
    form, step = _target_form(request, TakeBackForm)
    if step in (START, EDIT) or not form.is_valid():
        return render(request, MOVE, {"form": form, "taking_back": True})
    members = _targets(request, form, holding_credit=True, step=step)
    amount = form.amount_or_all
    if step == CONFIRM and _already_done(request, TAKE_BACK, form, members):
        messages.info(request, _("This take-back was already made; the credit moved once."))
        return redirect("credit:overview", org_slug=request.org.slug)
    plan = take_back_preview(organization=request.org, members=members, amount=amount)
    if not plan.lines and not plan.short:
        form.add_error(None, _("These members hold no credit to take back."))
        return render(request, MOVE, {"form": form, "taking_back": True, "left_out": plan.left_out})
    changed = step == CONFIRM and form.cleaned_data.get("expected") != plan.fingerprint
    if step == PREVIEW or changed or not plan.can_confirm:
        return _render_preview(request, form, plan, taking_back=True, changed=changed)
    try:
        credit_take_back(
            organization=request.org,
            actor=request.member,
            members=[line.member for line in plan.lines],
            amount=amount,
            idempotency_key=form_idempotency_key(action=TAKE_BACK, form_key=form.key),
            memo=form.cleaned_data.get("memo", ""),
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        # Someone spent or received credit since the preview: show it as it is now.
        messages.error(request, error.message)
        plan = take_back_preview(organization=request.org, members=members, amount=amount)
        return _render_preview(request, form, plan, taking_back=True)
    messages.success(
        request,
        ngettext(
            "%(total)s taken back from %(count)d member.",
            "%(total)s taken back from %(count)d members.",
            plan.count,
        )
        % {"total": plan.total, "count": plan.count},
    )
    return redirect("credit:overview", org_slug=request.org.slug)


# --- One member ------------------------------------------------------------------------------

GIVE, TAKE, CAP = "allocate", "take_back", "cap"
# Each form of the member page, with its field prefix.
_MEMBER_FORMS = {
    GIVE: (MemberAllocateForm, "give"),
    TAKE: (MemberTakeBackForm, "take"),
    CAP: (SpendingCapForm, "cap"),
}


def _member_forms(request, action: str | None) -> dict:
    """The page's forms: the one of `action` bound to the posted data, the others new."""
    forms = {}
    for name, (form_class, prefix) in _MEMBER_FORMS.items():
        keyed = name in (GIVE, TAKE)
        if name == action:
            data = _with_key(request.POST, f"{prefix}-idempotency_key") if keyed else request.POST
            forms[name] = form_class(data, organization=request.org, prefix=prefix)
        else:
            initial = {"idempotency_key": new_key()} if keyed else None
            forms[name] = form_class(organization=request.org, prefix=prefix, initial=initial)
    return forms


def _member_action(request, member: Member, action: str, form) -> str | None:
    """Run the member page's action; the success message, or None (errors are on the form)."""
    organization, actor, ip = request.org, request.member, client_ip(request)
    data = form.cleaned_data
    if action == CAP:
        member_spending_cap_set(
            organization=organization, actor=actor, member=member, cap=data["cap"], ip_address=ip
        )
        if data["cap"] is None:
            return _("%(name)s has no monthly spending cap now.") % {"name": member}
        return _("%(name)s may spend up to %(cap)s a month.") % {"name": member, "cap": data["cap"]}
    done_by = ALLOCATE if action == GIVE else TAKE_BACK
    key = form_idempotency_key(action=done_by, form_key=form.key)
    if _already_done(request, done_by, form, [member]):
        return _("This was already done; the credit moved once.")
    if action == GIVE:
        if member.status == Member.Status.INVITED:
            # The ledger would open a wallet for a placeholder that a revoked invitation deletes.
            raise ApplicationError(
                _("%(name)s has not joined yet: give credit once they have.") % {"name": member}
            )
        credit_allocate(
            organization=organization, actor=actor, members=[member], amount=data["amount"],
            idempotency_key=key, memo=data.get("memo", ""), ip_address=ip,
        )  # fmt: skip
        return _("%(amount)s given to %(name)s.") % {"amount": data["amount"], "name": member}
    [transfer] = credit_take_back(
        organization=organization, actor=actor, members=[member], amount=form.amount_or_all,
        idempotency_key=key, memo=data.get("memo", ""), ip_address=ip,
    )  # fmt: skip
    return _("%(amount)s taken back from %(name)s.") % {"amount": transfer.amount, "name": member}


@require_http_methods(["GET", "POST"])
def member_credit(request, member_id: int):
    """One member's credit: balance, give, take back, monthly spending cap, recent movements."""
    member = get_object_or_404(Member.objects.for_org(request.org), pk=member_id)
    action = request.POST.get("action") if request.method == "POST" else None
    if action not in (GIVE, TAKE, CAP):
        if request.method == "POST":
            messages.error(request, _("Choose what to do: give, take back, or set the cap."))
        action = None
    forms = _member_forms(request, action)
    short = None
    if action is not None and forms[action].is_valid():
        form = forms[action]
        try:
            done = _member_action(request, member, action, form)
        except CompanyBalanceShort as error:
            short = error.missing
            form.add_error(None, error.message)
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(request, done)
            return redirect("credit:member-credit", org_slug=request.org.slug, member_id=member.pk)
    credit = member_credit_of(organization=request.org, member=member)
    if credit.monthly_spending_cap is not None and not forms[CAP].is_bound:
        forms[CAP].initial = {"cap": credit.monthly_spending_cap}
    return render(
        request,
        "credit/member_credit.html",
        {
            "subject": member,
            "credit": credit,
            "give_form": forms[GIVE],
            "take_form": forms[TAKE],
            "cap_form": forms[CAP],
            "short": short,
            "may_buy": short is not None
            and may_buy(organization=request.org, member=request.member),
            "movements": member_transfers(organization=request.org, member=member)[
                :RECENT_MOVEMENTS
            ],
        },
    )
