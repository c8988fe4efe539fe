"""How the feature settings' audit events read (see organizations.audit_sentences): which
settings changed, from what to what."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from djmoney.money import Money

from organizations.audit_sentences import names_text, sentence


def _days(value) -> str:
    count = int(value)
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _money(value, currency: str) -> str:
    if value is None or value == "":
        return _("none")
    try:
        return str(Money(Decimal(str(value)), currency))
    except InvalidOperation:
        return str(value)


def _feature_settings_updated(event, context):
    currency = event.data.get("currency") or context.organization.currency
    changes = event.data.get("changes") or {}
    labels = {
        "grace_days": (_("grace period"), _days),
        "number_hold_days": (_("numbers kept for"), _days),
        "renew_min_balance": (
            _("renew only above"),
            lambda value: _money(value, currency),
        ),
        "notice_days": (_("large renewal days announced"), _days),
        "notice_threshold": (
            _("large renewal days from"),
            lambda value: _money(value, currency),
        ),
    }
    parts = []
    for key, (label, shown) in labels.items():
        if key in changes:
            change = changes[key]
            parts.append(
                _("%(setting)s %(before)s → %(after)s")
                % {
                    "setting": label,
                    "before": shown(change.get("from")),
                    "after": shown(change.get("to")),
                }
            )
    return sentence(
        _("%(actor)s changed the feature settings: %(changes)s."), changes=names_text(parts)
    )


SENTENCES = {
    "feature_settings.updated": _feature_settings_updated,
}
