"""How the renewal engine's audit events read (see organizations.audit_sentences).

Each event names the plan and the member as they were when it happened (stored in its data),
with the amount as Money and dates in the reader's language. The actor is the system.
"""

from datetime import datetime

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.audit_sentences import sentence

# The verbs' labels (registered from SubscriptionsConfig.ready()).
AUDIT_VERBS = {
    "subscription.renewed": gettext_lazy("renewed a feature"),
    "subscription.past_due": gettext_lazy("could not renew a feature"),
    "subscription.suspended": gettext_lazy("suspended a feature"),
    "subscription.reactivated": gettext_lazy("renewed a suspended or past due feature"),
    "subscription.ended": gettext_lazy("ended a feature"),
}


def _names(event) -> dict:
    return {
        "plan": event.data.get("plan_name") or event.target_label,
        "member": event.data.get("member_name") or "—",
    }


def _day(value: str | None) -> str:
    if not value:
        return "—"
    return date_format(datetime.fromisoformat(value), "DATE_FORMAT")


def _renewed(event, context):
    return sentence(
        _("%(actor)s renewed %(plan)s for %(member)s: %(amount)s, until %(until)s."),
        amount=context.money(event, "amount"),
        until=_day(event.data.get("until")),
        **_names(event),
    )


def _reactivated(event, context):
    return sentence(
        _(
            "%(actor)s renewed %(plan)s for %(member)s after it was unpaid: %(amount)s, "
            "until %(until)s; it can be used again."
        ),
        amount=context.money(event, "amount"),
        until=_day(event.data.get("until")),
        **_names(event),
    )


def _past_due(event, context):
    return sentence(
        _(
            "%(actor)s could not renew %(plan)s for %(member)s (%(amount)s): the company "
            "balance is short. It is past due and tried again every day."
        ),
        amount=context.money(event, "amount"),
        **_names(event),
    )


def _suspended(event, context):
    return sentence(
        _(
            "%(actor)s suspended %(plan)s for %(member)s: still unpaid (%(amount)s) at the "
            "end of the grace period."
        ),
        amount=context.money(event, "amount"),
        **_names(event),
    )


def _ended(event, context):
    reason = event.data.get("reason")
    if reason == "cancelled":
        template = _("%(actor)s ended %(plan)s for %(member)s: cancelled at the end of its period.")
    elif reason == "auto_renew_off":
        template = _(
            "%(actor)s ended %(plan)s for %(member)s at the end of its period: it does not "
            "renew automatically."
        )
    elif reason == "not_sold":
        template = _(
            "%(actor)s ended %(plan)s for %(member)s: the plan is no longer sold in the "
            "organization's currency for its period."
        )
    else:
        template = _("%(actor)s ended %(plan)s for %(member)s: it stayed unpaid.")
    return sentence(template, **_names(event))


SENTENCES = {
    "subscription.renewed": _renewed,
    "subscription.reactivated": _reactivated,
    "subscription.past_due": _past_due,
    "subscription.suspended": _suspended,
    "subscription.ended": _ended,
}
