from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    """Lists, invitations, the directory and member details (see the members issue)."""

    name = "members"
    verbose_name = _("Members")

    def ready(self):
        from members.audit import AUDIT_VERBS, SENTENCES
        from members.extensions import register_member_picker_scope
        from members.selectors.picker import active_members
        from organizations.audit_sentences import register_audit_sentences
        from organizations.models import register_audit_verbs

        register_audit_verbs(AUDIT_VERBS)
        register_audit_sentences(SENTENCES)
        register_member_picker_scope("active", active_members)
