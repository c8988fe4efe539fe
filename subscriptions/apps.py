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
            register_organization_created,
            register_settings_link,
        )
        from organizations.models import register_audit_verbs
        from outbox.attachments import attachment_register
        from subscriptions import audit_numbers, audit_renewals, settings_audit
        from subscriptions.services.settings import feature_settings_create
        from subscriptions.services.voice import voicemail_attachment

        register_audit_verbs(AUDIT_VERBS)
        register_audit_verbs(NUMBER_AUDIT_VERBS)
        register_audit_sentences(audit_numbers.SENTENCES)
        attachment_register("subscriptions.voicemail", voicemail_attachment)
        register_organization_created("feature-settings", feature_settings_create)
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
