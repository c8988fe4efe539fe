"""What the members app's audit verbs mean, for people reading the trail.

AUDIT_VERBS labels each verb (the audit log's filter); SENTENCES words each event as a sentence
with its target and key data (see organizations.audit_sentences). Both are registered by
MembersConfig.ready(); each piece of the members work adds its own verbs here.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from organizations.audit_sentences import changes_text, names_text, role_label, sentence

AUDIT_VERBS = {
    "member.role_changed": gettext_lazy("changed the role of"),
    "member.suspended": gettext_lazy("suspended"),
    "member.reactivated": gettext_lazy("reactivated"),
    "member.removed": gettext_lazy("removed"),
    "member.left": gettext_lazy("left the organization"),
    "member.profile_updated": gettext_lazy("updated the profile of"),
    "list.created": gettext_lazy("created the list"),
    "list.renamed": gettext_lazy("renamed the list"),
    "list.deleted": gettext_lazy("deleted the list"),
    "list.member_added": gettext_lazy("added members to the list"),
    "list.member_removed": gettext_lazy("removed members from the list"),
    "invitation.sent": gettext_lazy("invited"),
    "invitation.resent": gettext_lazy("sent the invitation again to"),
    "invitation.revoked": gettext_lazy("revoked the invitation of"),
    "invitation.accepted": gettext_lazy("accepted the invitation"),
    "invitation.declined": gettext_lazy("declined the invitation sent to"),
    "import.checked": gettext_lazy("checked the import file"),
    "import.done": gettext_lazy("imported the file"),
}


def _role_changed(event, context):
    return sentence(
        _("%(actor)s changed the role of %(member)s from %(before)s to %(after)s."),
        member=event.target_label,
        before=role_label(event.data["from"]),
        after=role_label(event.data["to"]),
    )


def _status_change(template):
    def describe(event, context):
        return sentence(template(), member=event.target_label)

    return describe


def _removed(event, context):
    lists = event.data.get("lists") or []
    if not lists:
        return sentence(
            _("%(actor)s removed %(member)s from the organization."), member=event.target_label
        )
    return sentence(
        ngettext(
            "%(actor)s removed %(member)s from the organization and from the list %(lists)s.",
            "%(actor)s removed %(member)s from the organization and from the lists %(lists)s.",
            len(lists),
        ),
        member=event.target_label,
        lists=names_text([_("“%(name)s”") % {"name": name} for name in lists]),
    )


def _left(event, context):
    return sentence(
        _("%(actor)s left the organization (was %(role)s)."),
        role=role_label(event.data.get("role", "")),
    )


def _profile_fields() -> dict[str, str]:
    return {
        "display_name": _("name"),
        "email": _("email"),
        "phone": _("mobile number"),
        "job_title": _("job title"),
        "department": _("department"),
    }


def _profile_updated(event, context):
    return sentence(
        _("%(actor)s updated the profile of %(member)s: %(changes)s."),
        member=event.target_label,
        changes=changes_text(event.data, _profile_fields()),
    )


def _list_created(event, context):
    return sentence(
        _("%(actor)s created the list “%(list)s”."),
        list=event.data.get("name") or event.target_label,
    )


def _list_renamed(event, context):
    return sentence(
        _("%(actor)s renamed the list “%(before)s” to “%(after)s”."),
        before=event.data["from"],
        after=event.data["to"],
    )


def _list_deleted(event, context):
    count = int(event.data.get("members") or 0)
    return sentence(
        _("%(actor)s deleted the list “%(list)s” (%(members)s)."),
        list=event.data.get("name") or event.target_label,
        members=_members_count(count),
    )


def _members_count(count: int) -> str:
    return _n("%(count)d member", "%(count)d members", count)


def _n(singular: str, plural: str, count: int) -> str:
    return ngettext(singular, plural, count) % {"count": count}


def _list_members(template):
    def describe(event, context):
        people = event.data.get("members") or []
        return sentence(
            template(),
            members=names_text([person.get("name", "") for person in people[:3]], len(people)),
            list=event.target_label,
        )

    return describe


def _channel(event) -> str:
    from members.models import Invitation

    try:
        return str(Invitation.Channel(event.data.get("channel")).label).lower()
    except ValueError:
        return ""


def _address(event) -> str:
    return event.data.get("address") or event.target_label


def _invitation_sent(event, context):
    return sentence(
        _("%(actor)s invited %(address)s (%(channel)s)."),
        address=_address(event),
        channel=_channel(event),
    )


def _invitation_resent(event, context):
    return sentence(
        _("%(actor)s sent the invitation to %(address)s again."), address=_address(event)
    )


def _invitation_revoked(event, context):
    return sentence(
        _("%(actor)s revoked the invitation sent to %(address)s."), address=_address(event)
    )


def _invitation_accepted(event, context):
    return sentence(
        _("%(actor)s accepted the invitation and joined as %(role)s."),
        role=role_label(event.data.get("role", "")),
    )


def _invitation_declined(event, context):
    # The actor is the address invited: there is no member to name.
    return sentence(_("%(actor)s declined the invitation."))


def _import_checked(event, context):
    rows = int(event.data["rows"])
    return sentence(
        _("%(actor)s checked the import file “%(file)s”: %(valid)s of %(rows)s ready."),
        file=event.target_label,
        valid=event.data["valid"],
        rows=_n("%(count)d row", "%(count)d rows", rows),
    )


def _import_done(event, context):
    return sentence(
        _("%(actor)s imported the file “%(file)s”: %(invited)s invited, %(refused)s refused."),
        file=event.target_label,
        invited=_n("%(count)d person", "%(count)d people", int(event.data["invited"])),
        refused=int(event.data["refused"]),
    )


SENTENCES = {
    "member.role_changed": _role_changed,
    "member.suspended": _status_change(lambda: _("%(actor)s suspended %(member)s.")),
    "member.reactivated": _status_change(lambda: _("%(actor)s reactivated %(member)s.")),
    "member.removed": _removed,
    "member.left": _left,
    "member.profile_updated": _profile_updated,
    "list.created": _list_created,
    "list.renamed": _list_renamed,
    "list.deleted": _list_deleted,
    "list.member_added": _list_members(
        lambda: _("%(actor)s added %(members)s to the list “%(list)s”.")
    ),
    "list.member_removed": _list_members(
        lambda: _("%(actor)s took %(members)s out of the list “%(list)s”.")
    ),
    "invitation.sent": _invitation_sent,
    "invitation.resent": _invitation_resent,
    "invitation.revoked": _invitation_revoked,
    "invitation.accepted": _invitation_accepted,
    "invitation.declined": _invitation_declined,
    "import.checked": _import_checked,
    "import.done": _import_done,
}
