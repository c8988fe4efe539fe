from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    """The ledger, purchases, allocation and usage (see the credit issue)."""

    name = "credit"
    verbose_name = _("Credit")
