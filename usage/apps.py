from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsageConfig(AppConfig):
    """Calls and messages: rates, authorization against credit, usage records and their
    ingestion (Twilio callbacks, the call-record API), alerts."""

    name = "usage"
    verbose_name = _("Usage")

    def ready(self):
        from organizations.extensions import register_demo_loader, register_organization_created
        from usage.demo import demo_usage_load
        from usage.services.settings import usage_settings_create

        register_organization_created("usage-settings", usage_settings_create)
        register_demo_loader("usage", demo_usage_load)
