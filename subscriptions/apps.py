from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    """Plans, online numbers, calling subscriptions, voicemail and renewals."""

    name = "subscriptions"
    verbose_name = _("Features")

    def ready(self):
        from organizations.extensions import register_organization_created
        from organizations.models import register_audit_verbs
        from subscriptions.services.settings import feature_settings_create

        register_audit_verbs(AUDIT_VERBS)
        register_organization_created("feature-settings", feature_settings_create)


# What the features app records in the audit trail (the sentences are in subscriptions.audit).
AUDIT_VERBS = {
    "feature.assigned": _("assigned a feature"),
}
