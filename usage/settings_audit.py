"""How the usage settings' audit events read (see organizations.audit_sentences): which
settings changed, from what to what."""

from django.utils.translation import gettext as _

from organizations.audit_sentences import changes_text, sentence


def _value(name: str, value) -> str:
    if name == "mask_destinations":
        return _("hidden") if value else _("shown")
    return "" if value is None else str(value)


def _usage_settings_updated(event, context):
    labels = {
        "mask_destinations": _("last digits of numbers called"),
        "unusual_spend_factor": _("unusual spend factor"),
    }
    changes = changes_text(event.data.get("changes") or {}, labels, _value)
    return sentence(_("%(actor)s changed the usage settings: %(changes)s."), changes=changes)


SENTENCES = {
    "usage_settings.updated": _usage_settings_updated,
}
