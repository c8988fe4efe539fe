"""How the API keys' audit events read (see organizations.audit_sentences): a key created or
revoked names the key; a use of the API (actor: the key) says what it did and with how many
records."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from organizations.audit_sentences import names_text, sentence

AUDIT_VERBS = {
    "api_key.created": gettext_lazy("created an API key"),
    "api_key.revoked": gettext_lazy("revoked an API key"),
    "api_key.used": gettext_lazy("used the call-record API"),
}


def _key(event) -> str:
    name = event.data.get("name") or event.target_label
    prefix = event.data.get("prefix")
    return f"“{name}” ({prefix}…)" if prefix else f"“{name}”"


def _number(event, key: str) -> int:
    value = event.data.get(key) or 0
    return value if isinstance(value, int) else 0


def _count(count: int) -> str:
    return number_format(count, force_grouping=True)


def _created(event, context):
    return sentence(_("%(actor)s created the API key %(key)s."), key=_key(event))


def _revoked(event, context):
    return sentence(_("%(actor)s revoked the API key %(key)s."), key=_key(event))


def _outcomes(event) -> str:
    """ "990 recorded, 5 duplicates and 5 rejected", leaving out the zeros."""
    created, duplicate, rejected = (
        _number(event, key) for key in ("created", "duplicate", "rejected")
    )
    parts = []
    if created:
        parts.append(
            ngettext("%(count)s recorded", "%(count)s recorded", created)
            % {"count": _count(created)}
        )
    if duplicate:
        parts.append(
            ngettext("%(count)s duplicate", "%(count)s duplicates", duplicate)
            % {"count": _count(duplicate)}
        )
    if rejected:
        parts.append(
            ngettext("%(count)s rejected", "%(count)s rejected", rejected)
            % {"count": _count(rejected)}
        )
    return names_text(parts)


def _used(event, context):
    operation = event.data.get("operation", "")
    if operation == "usage.post" and "sent" in event.data:
        sent = _number(event, "sent")
        return sentence(
            ngettext(
                "%(actor)s sent %(count)s usage record through the API: %(outcomes)s.",
                "%(actor)s sent %(count)s usage records through the API: %(outcomes)s.",
                sent,
            ),
            count=_count(sent),
            outcomes=_outcomes(event) or _("nothing recorded"),
        )
    if operation in ("usage.list", "usage.get") and "returned" in event.data:
        returned = _number(event, "returned")
        return sentence(
            ngettext(
                "%(actor)s read %(count)s usage record through the API.",
                "%(actor)s read %(count)s usage records through the API.",
                returned,
            ),
            count=_count(returned),
        )
    return sentence(
        _("%(actor)s made a call-record API request that was refused (HTTP %(status)s)."),
        status=event.data.get("status", ""),
    )


SENTENCES = {
    "api_key.created": _created,
    "api_key.revoked": _revoked,
    "api_key.used": _used,
}
