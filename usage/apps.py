from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsageConfig(AppConfig):
    """Calls and messages: rates, authorization against credit, usage records and their
    ingestion (Twilio callbacks, the call-record API), alerts."""

    name = "usage"
    verbose_name = _("Usage")

    def ready(self):
        from organizations.audit_sentences import register_audit_sentences
        from organizations.extensions import (
            register_demo_loader,
            register_organization_created,
            register_settings_link,
        )
        from organizations.models import register_audit_verbs
        from usage import audit_api_keys, settings_audit
        from usage.demo import demo_usage_load
        from usage.services.settings import usage_settings_create

        register_organization_created("usage-settings", usage_settings_create)
        register_demo_loader("usage", demo_usage_load)
        # The usage policy: masking numbers and unusual spend, linked from the settings page.
        register_audit_verbs(SETTINGS_AUDIT_VERBS)
        register_audit_sentences(settings_audit.SENTENCES)
        register_settings_link(
            "usage-settings",
            label=_("Usage settings"),
            description=_("Hide the last digits of numbers called, and when spend is unusual."),
            url_name="usage:settings",
        )
        # The call-record API's keys: managed from the settings page, every use audited.
        register_audit_verbs(audit_api_keys.AUDIT_VERBS)
        register_audit_sentences(audit_api_keys.SENTENCES)
        register_settings_link(
            "api-keys",
            label=_("API keys"),
            description=_("Keys that let your phone system or provider send call records."),
            url_name="usage:api-key-list",
        )
        self._show_usage_on_other_pages()

    @staticmethod
    def _show_usage_on_other_pages():
        """A member's calls and messages on their details page (My account reads
        usage.views.panels.my_usage itself)."""
        from members.extensions import register_member_detail_panel
        from organizations.roles import Role
        from usage.views import panels

        register_member_detail_panel(
            "usage",
            template="usage/_usage_member_panel.html",
            context=panels.member_panel,
            role=Role.FINANCE,
        )


# The usage policy's events (the sentences are in usage.settings_audit).
SETTINGS_AUDIT_VERBS = {
    "usage_settings.updated": _("changed the usage settings"),
}
