from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    """Plans, online numbers, calling subscriptions, voicemail and renewals."""

    name = "subscriptions"
    verbose_name = _("Features")

    def ready(self):
        from credit.extensions import register_company_credited
        from organizations.audit_sentences import register_audit_sentences
        from organizations.extensions import (
            register_demo_loader,
            register_organization_created,
            register_settings_link,
        )
        from organizations.models import register_audit_verbs
        from outbox.attachments import attachment_register
        from subscriptions import audit, audit_numbers, audit_renewals, settings_audit
        from subscriptions.demo import demo_features_load
        from subscriptions.services import manage
        from subscriptions.services.settings import feature_settings_create
        from subscriptions.services.voice import voicemail_attachment

        register_audit_verbs(AUDIT_VERBS)
        register_audit_verbs(manage.AUDIT_VERBS)
        register_audit_sentences(audit.SENTENCES, loader=audit.rows_for_events)
        register_organization_created("feature-settings", feature_settings_create)
        register_demo_loader("features", demo_features_load)
        # Online numbers, calls and voicemail.
        register_audit_verbs(NUMBER_AUDIT_VERBS)
        register_audit_sentences(audit_numbers.SENTENCES)
        attachment_register("subscriptions.voicemail", voicemail_attachment)
        # Renewals.
        register_audit_verbs(audit_renewals.AUDIT_VERBS)
        register_audit_sentences(audit_renewals.SENTENCES)
        register_company_credited("subscriptions-renew", renew_when_credited)
        # The renewal policy and the calendar: feature settings, linked from the settings page.
        register_audit_verbs(SETTINGS_AUDIT_VERBS)
        register_audit_sentences(settings_audit.SENTENCES)
        register_settings_link(
            "feature-settings",
            label=_("Feature settings"),
            description=_("Grace period, numbers kept, and notices of large renewal days."),
            url_name="subscriptions:settings",
        )
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


def renew_when_credited(organization_id: int) -> None:
    """A purchase was credited: renew the organization's unpaid due features now (the daily
    retry of the renewal sweep would otherwise wait up to a day)."""
    from subscriptions.tasks.renewals import renew_organization

    renew_organization.delay(organization_id)


# What the features app records in the audit trail (the sentences are in subscriptions.audit).
AUDIT_VERBS = {
    "feature.assigned": _("assigned a feature"),
}

# The renewal policy's events (the sentences are in subscriptions.settings_audit).
SETTINGS_AUDIT_VERBS = {
    "feature_settings.updated": _("changed the feature settings"),
}

# Online numbers and members' phone settings (sentences in subscriptions.audit_numbers).
NUMBER_AUDIT_VERBS = {
    "number.provisioned": _("set up an online number"),
    "number.failed": _("could not buy an online number"),
    "number.released": _("released an online number"),
    "phone.forwarding_set": _("changed call forwarding"),
    "phone.greeting_set": _("changed the voicemail greeting"),
    "phone.caller_id_set": _("changed the caller ID"),
}
