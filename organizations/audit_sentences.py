"""How the audit trail reads: one sentence per event, in the reader's language.

Owns the wording of audit events. Each app registers a describer for each of its verbs (in its
AppConfig.ready(), next to the verbs' labels): it turns an event into a translated template
and the values to put in it, naming the target and the key data (amounts as Money, roles and
statuses by their labels) and never a raw code. An app may also register a loader that
fetches, once for a page of events, the rows its describers need (the purchases or rules the
events name). Events recorded before a key existed fall back to the stored target label, and
a verb nobody describes reads "<actor> <label> <target>".
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from babel.lists import format_list
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext, to_locale
from django.utils.translation import gettext as _
from django_countries import countries
from djmoney.money import Money

from organizations.roles import Role

if TYPE_CHECKING:
    from organizations.models import AuditEvent, Organization

logger = logging.getLogger(__name__)


@dataclass
class Sentence:
    """A translated template with %(name)s placeholders, and its values. `%(actor)s` is
    filled in by the renderer with the actor's name."""

    template: str
    values: dict[str, Any] = field(default_factory=dict)


def sentence(template: str, **values) -> Sentence:
    return Sentence(template, values)


@dataclass
class AuditContext:
    """What the describers of one page of events share: the organization, and the rows the
    loaders fetched, by (target type, id)."""

    organization: "Organization"
    rows: dict[tuple[str, str], Any] = field(default_factory=dict)

    def row(self, event: "AuditEvent") -> Any:
        """The live row the event's target names, when a loader fetched it."""
        return self.rows.get((event.target_type, event.target_id))

    def money(self, event: "AuditEvent", key: str) -> Money | None:
        """The amount stored under `key`, in the event's currency (the organization's when the
        event does not say), or None when there is none."""
        value = event.data.get(key)
        if value is None or value == "":
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
        return Money(amount, event.data.get("currency") or self.organization.currency)


Describer = Callable[["AuditEvent", AuditContext], Sentence | None]
Loader = Callable[["Organization", Sequence["AuditEvent"]], dict[tuple[str, str], Any]]

_describers: dict[str, Describer] = {}
_loaders: list[Loader] = []


def register_audit_sentences(
    describers: dict[str, Describer], *, loader: Loader | None = None
) -> None:
    """Make each describer the wording of its verb; `loader(organization, events)` returns
    {(target type, target id): row} for the rows those describers read."""
    _describers.update(describers)
    if loader is not None and loader not in _loaders:
        _loaders.append(loader)


def described_verbs() -> set[str]:
    return set(_describers)


def audit_events_describe(
    organization: "Organization", events: Iterable["AuditEvent"]
) -> list["AuditEvent"]:
    """Give each event its `sentence` (safe HTML, the actor in bold), with one query per
    loader for the whole page. Returns the events as a list."""
    events = list(events)
    context = AuditContext(organization)
    for load in _loaders:
        context.rows.update(load(organization, events))
    for event in events:
        event.sentence = _render(event, context)
    return events


def _render(event: "AuditEvent", context: AuditContext) -> SafeString:
    describer = _describers.get(event.verb)
    if describer is not None:
        try:
            described = describer(event, context)
            if described is not None:
                return _html(event, described)
        except (KeyError, TypeError, ValueError, AttributeError):
            # Data written by an older version (or a translation missing a placeholder):
            # the plain wording still tells what happened.
            logger.warning("Audit event %s (%s) could not be worded", event.pk, event.verb)
    return _html(event, _plain(event))


def _html(event: "AuditEvent", described: Sentence) -> SafeString:
    """The sentence with its values escaped and the actor in bold."""
    values = {
        key: "—" if value is None else conditional_escape(value)
        for key, value in described.values.items()
    }
    values["actor"] = format_html("<strong>{}</strong>", event.actor_label or _("System"))
    return mark_safe(conditional_escape(described.template) % values)  # noqa: S308 (escaped)


def _plain(event: "AuditEvent") -> Sentence:
    from organizations.models import AUDIT_VERBS

    label = AUDIT_VERBS.get(event.verb) or _("made a change")
    if event.target_label:
        return sentence(
            _("%(actor)s %(label)s %(target)s."), label=label, target=event.target_label
        )
    return sentence(_("%(actor)s %(label)s."), label=label)


# --- Helpers for describers -----------------------------------------------------------------


def names_text(names: Sequence[str], total: int | None = None) -> str:
    """ "Ann", "Ann and Bob", "Ann, Bob and Cat", or "Ann, Bob, Cat and 4 others" when `total`
    is more than the names given, joined the way the page's language does."""
    names = [str(name) for name in names if name]
    total = max(total or 0, len(names))
    items = list(names)
    if total > len(names):
        rest = total - len(names)
        items.append(ngettext("%(count)d other", "%(count)d others", rest) % {"count": rest})
    if not items:
        return ""
    return format_list(items, locale=to_locale(get_language() or "en"))


def role_label(value: str) -> str:
    try:
        return str(Role(value).label).lower()
    except ValueError:
        return _("another role")


def month_text(value: str) -> str:
    """ "2026-03" or "2026-03-01" as the page's language writes a month ("March 2026")."""
    year, month = (int(part) for part in str(value).split("-")[:2])
    return date_format(date(year, month, 1), "YEAR_MONTH_FORMAT")


def country_name(code: str) -> str:
    return str(countries.name(code)) or code


def changes_text(changes: dict, labels: dict[str, str], values=None) -> str:
    """The changed fields of a settings form, "time zone from X to Y; name from A to B" (by
    their labels, in the labels' order); `values(field, value)` turns stored values into
    words."""
    parts = []
    for name, label in labels.items():
        change = changes.get(name)
        if not isinstance(change, dict):
            continue
        before, after = change.get("from"), change.get("to")
        if values is not None:
            before, after = values(name, before), values(name, after)
        change_values = {"field": label, "before": before, "after": after}
        if before in ("", None):
            parts.append(_("%(field)s set to “%(after)s”") % change_values)
        elif after in ("", None):
            parts.append(_("%(field)s cleared (was “%(before)s”)") % change_values)
        else:
            parts.append(_("%(field)s from “%(before)s” to “%(after)s”") % change_values)
    return "; ".join(parts)


# --- The organization's own verbs ----------------------------------------------------------


def _organization_created(event, context):
    return sentence(
        _("%(actor)s created the organization %(name)s."),
        name=event.data.get("name") or event.target_label,
    )


def _organization_fields() -> dict[str, str]:
    return {
        "name": _("company name"),
        "country": _("country"),
        "currency": _("currency"),
        "time_zone": _("time zone"),
        "invitation_expiry_days": _("invitation expiry (days)"),
    }


def _organization_value(name: str, value):
    if value is None:
        return ""
    if name == "country":
        return country_name(value)
    if name == "time_zone":
        return str(value).replace("_", " ")
    return value


def _organization_updated(event, context):
    text = changes_text(event.data, _organization_fields(), _organization_value)
    if not text:
        return sentence(_("%(actor)s changed the organization's settings."))
    return sentence(_("%(actor)s changed the organization's settings: %(changes)s."), changes=text)


def _member_joined(event, context):
    # The member who joined is the target; the actor may be the same person, or nobody
    # (added by the platform).
    return sentence(
        _("%(member)s joined the organization as %(role)s."),
        member=format_html("<strong>{}</strong>", event.target_label or event.actor_label),
        role=role_label(event.data.get("role", "")),
    )


def _member_added(event, context):
    return sentence(
        _("%(actor)s added %(member)s as %(role)s."),
        member=event.target_label,
        role=role_label(event.data.get("role", "")),
    )


# Registered by OrganizationsConfig.ready(), like the other apps' describers.
SENTENCES = {
    "organization.created": _organization_created,
    "organization.updated": _organization_updated,
    "member.joined": _member_joined,
    "member.added": _member_added,
}
