"""How the online-number and phone-settings audit events read (see
organizations.audit_sentences): each names the member (the event's target) and the number."""

from django.utils.translation import gettext as _

from organizations.audit_sentences import sentence


def _member(event) -> str:
    return event.target_label or _("a member")


def _provisioned(event, context):
    return sentence(
        _("The number %(number)s was set up for %(member)s."),
        number=event.data.get("number", ""),
        member=_member(event),
    )


def _failed(event, context):
    refunded = context.money(event, "refunded")
    if refunded:
        return sentence(
            _("The number for %(member)s could not be bought (%(reason)s); %(amount)s refunded."),
            member=_member(event),
            reason=event.data.get("reason", ""),
            amount=refunded,
        )
    return sentence(
        _("The number for %(member)s could not be bought (%(reason)s)."),
        member=_member(event),
        reason=event.data.get("reason", ""),
    )


def _released(event, context):
    return sentence(
        _("The number %(number)s of %(member)s was released after its hold."),
        number=event.data.get("number", ""),
        member=_member(event),
    )


def _forwarding(event, context):
    number = event.data.get("number")
    if number:
        return sentence(_("Calls are now forwarded to %(number)s."), number=number)
    return sentence(_("Call forwarding was turned off."))


def _greeting(event, context):
    return sentence(_("The voicemail greeting was changed."))


def _caller_id(event, context):
    number = event.data.get("number")
    if number:
        return sentence(_("The caller ID is now %(number)s."), number=number)
    return sentence(_("The caller ID is now the company's default."))


SENTENCES = {
    "number.provisioned": _provisioned,
    "number.failed": _failed,
    "number.released": _released,
    "phone.forwarding_set": _forwarding,
    "phone.greeting_set": _greeting,
    "phone.caller_id_set": _caller_id,
}
