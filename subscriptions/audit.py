"""How the features app's audit events read (see organizations.audit_sentences).

The verbs' labels are in subscriptions.apps and subscriptions.services.manage; this module words
each event as a sentence with the plan's name in the reader's language (the loader fetches the
plans the events name, once per page), the member, amounts as Money and periods in words.
"""

import datetime

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organizations.audit_sentences import names_text, sentence
from subscriptions.models import Plan

ACCESS_LABELS = {
    "may_call": lambda: _("calls"),
    "may_sms": lambda: _("SMS"),
    "may_numbers": lambda: _("online numbers"),
    "may_voicemail": lambda: _("voicemail"),
}


def rows_for_events(organization, events) -> dict:
    """{("plan", code): Plan} for the plans the events name."""
    codes = {event.data.get("plan") for event in events if event.verb.startswith("feature.")}
    codes.discard(None)
    if not codes:
        return {}
    return {("plan", plan.code): plan for plan in Plan.objects.filter(code__in=codes)}


def _plan(event, context) -> str:
    plan = context.rows.get(("plan", event.data.get("plan")))
    return plan.display_name if plan is not None else event.data.get("plan_name", "")


def _months(value) -> str:
    months = int(value)
    return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}


def _assigned(event, context):
    count = int(event.data.get("members") or 0)
    names = event.data.get("names") or []
    members = event.target_label if count == 1 and event.target_label else names_text(names, count)
    return sentence(
        _("%(actor)s assigned %(plan)s (%(period)s) to %(members)s, charging %(total)s."),
        plan=_plan(event, context),
        period=_months(event.data.get("months") or 1),
        members=members,
        total=context.money(event, "total"),
    )


def _cancelled(event, context):
    values = {"plan": _plan(event, context), "member": event.target_label}
    if event.data.get("when") == "now":
        refund = context.money(event, "refund")
        if refund is None:
            return sentence(_("%(actor)s cancelled %(plan)s of %(member)s now."), **values)
        return sentence(
            _("%(actor)s cancelled %(plan)s of %(member)s now, refunding %(refund)s."),
            refund=refund,
            **values,
        )
    end = event.data.get("period_end")
    if end:
        day = date_format(datetime.datetime.fromisoformat(end).date(), "DATE_FORMAT")
        return sentence(
            _("%(actor)s cancelled %(plan)s of %(member)s at the end of its period (%(day)s)."),
            day=day,
            **values,
        )
    return sentence(
        _("%(actor)s cancelled %(plan)s of %(member)s at the end of its period."), **values
    )


def _kept(event, context):
    return sentence(
        _("%(actor)s undid the cancellation of %(plan)s of %(member)s."),
        plan=_plan(event, context),
        member=event.target_label,
    )


def _auto_renew(event, context):
    values = {"plan": _plan(event, context), "member": event.target_label}
    if event.data.get("auto_renew"):
        return sentence(_("%(actor)s turned on the renewal of %(plan)s of %(member)s."), **values)
    return sentence(_("%(actor)s turned off the renewal of %(plan)s of %(member)s."), **values)


def _period(event, context):
    return sentence(
        _("%(actor)s set %(plan)s of %(member)s to renew for %(period)s (was %(previous)s)."),
        plan=_plan(event, context),
        member=event.target_label,
        period=_months(event.data["months"]),
        previous=_months(event.data["previous"]),
    )


def _moved(event, context):
    return sentence(
        _("%(actor)s moved %(plan)s from %(previous)s to %(member)s."),
        plan=_plan(event, context),
        previous=event.data.get("from") or _("a former member"),
        member=event.target_label,
    )


def _access(event, context):
    changed = event.data.get("changed") or {}
    allowed = [ACCESS_LABELS[key]() for key, on in changed.items() if on and key in ACCESS_LABELS]
    denied = [
        ACCESS_LABELS[key]() for key, on in changed.items() if not on and key in ACCESS_LABELS
    ]
    parts = []
    if allowed:
        parts.append(_("may now use %(kinds)s") % {"kinds": names_text(allowed)})
    if denied:
        parts.append(_("may no longer use %(kinds)s") % {"kinds": names_text(denied)})
    return sentence(
        _("%(actor)s changed the access of %(member)s: %(changes)s."),
        member=event.target_label,
        changes="; ".join(parts) or _("no change"),
    )


SENTENCES = {
    "feature.assigned": _assigned,
    "feature.cancelled": _cancelled,
    "feature.cancel_undone": _kept,
    "feature.auto_renew_changed": _auto_renew,
    "feature.period_changed": _period,
    "feature.moved": _moved,
    "feature.access_changed": _access,
}
