from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    """Plans, online numbers, calling subscriptions, voicemail and renewals."""

    name = "subscriptions"
    verbose_name = _("Features")
