"""What the members app's audit verbs mean, for people reading the trail.

One dict literal, registered by MembersConfig.ready(); each piece of the members work adds its
own verbs here.
"""

from django.utils.translation import gettext_lazy as _

AUDIT_VERBS = {
    "member.role_changed": _("changed the role of"),
    "member.suspended": _("suspended"),
    "member.reactivated": _("reactivated"),
    "member.removed": _("removed"),
    "member.left": _("left the organization"),
    "member.profile_updated": _("updated the profile of"),
    "list.created": _("created the list"),
    "list.renamed": _("renamed the list"),
    "list.deleted": _("deleted the list"),
    "list.member_added": _("added members to the list"),
    "list.member_removed": _("removed members from the list"),
    "invitation.sent": _("invited"),
    "invitation.resent": _("sent the invitation again to"),
    "invitation.revoked": _("revoked the invitation of"),
    "invitation.accepted": _("accepted the invitation"),
    "invitation.declined": _("declined the invitation sent to"),
    "import.checked": _("checked the import file"),
    "import.done": _("imported the file"),
}
