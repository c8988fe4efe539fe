from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    """Plans, online numbers, calling subscriptions, voicemail and renewals."""

    name = "subscriptions"
    verbose_name = _("Features")

    def ready(self):
        from organizations.audit_sentences import register_audit_sentences
        from organizations.extensions import register_organization_created
        from organizations.models import register_audit_verbs
        from outbox.attachments import attachment_register
        from subscriptions import audit_numbers
        from subscriptions.services.settings import feature_settings_create
        from subscriptions.services.voice import voicemail_attachment

        register_audit_verbs(AUDIT_VERBS)
        register_audit_verbs(NUMBER_AUDIT_VERBS)
        register_audit_sentences(audit_numbers.SENTENCES)
        attachment_register("subscriptions.voicemail", voicemail_attachment)
        register_organization_created("feature-settings", feature_settings_create)


# What the features app records in the audit trail (the sentences are in subscriptions.audit).
AUDIT_VERBS = {
    "feature.assigned": _("assigned a feature"),
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
