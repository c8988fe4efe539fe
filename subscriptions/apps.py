from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    """Plans, online numbers, calling subscriptions, voicemail and renewals."""

    name = "subscriptions"
    verbose_name = _("Features")

    def ready(self):
        from organizations.audit_sentences import register_audit_sentences
        from organizations.extensions import register_demo_loader, register_organization_created
        from organizations.models import register_audit_verbs
        from subscriptions import audit
        from subscriptions.demo import demo_features_load
        from subscriptions.services import manage
        from subscriptions.services.settings import feature_settings_create

        register_audit_verbs(AUDIT_VERBS)
        register_audit_verbs(manage.AUDIT_VERBS)
        register_audit_sentences(audit.SENTENCES, loader=audit.rows_for_events)
        register_organization_created("feature-settings", feature_settings_create)
        register_demo_loader("features", demo_features_load)
        self._show_features_on_other_pages()

    @staticmethod
    def _show_features_on_other_pages():
        """Features on the organization home, in the directory, on member details; the
        removal question; the member picker's scope for moving features."""
        from members.extensions import (
            register_directory_bulk_action,
            register_directory_column,
            register_member_detail_panel,
            register_member_picker_scope,
            register_removal_question,
        )
        from organizations.extensions import register_home_panel
        from organizations.models import Member
        from organizations.roles import Role
        from subscriptions.forms.manage import ACTIVE_MEMBERS_SCOPE
        from subscriptions.services.removal import features_on_removal
        from subscriptions.views import panels

        register_home_panel(
            "features",
            template="subscriptions/_features_home_panel.html",
            context=panels.home_panel,
            role=Role.FINANCE,
        )
        register_directory_column(
            "features",
            label=_("Features"),
            cell_template="subscriptions/_features_directory_cell.html",
            values=panels.directory_cells,
            role=Role.FINANCE,
            css_class="d-none d-lg-table-cell",
        )
        register_member_detail_panel(
            "features",
            template="subscriptions/_features_member_panel.html",
            context=panels.member_panel,
            role=Role.FINANCE,
        )
        register_directory_bulk_action(
            "features-assign", label=_("Assign a feature"), url_name="subscriptions:assign"
        )
        register_member_picker_scope(
            ACTIVE_MEMBERS_SCOPE,
            lambda organization: Member.objects.for_org(organization).filter(
                status=Member.Status.ACTIVE
            ),
        )
        register_removal_question(
            "features",
            template="subscriptions/_removal_question.html",
            form=panels.removal_question,
            apply=features_on_removal,
        )


# What the features app records in the audit trail (the sentences are in subscriptions.audit).
AUDIT_VERBS = {
    "feature.assigned": _("assigned a feature"),
}
