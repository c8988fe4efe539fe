from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and sign-in")

    def ready(self) -> None:
        from allauth.account.signals import password_reset

        from accounts.adapter import forget_failed_logins

        def _unlock_after_reset(sender, request, user, **kwargs) -> None:
            # A reset proves the person owns the account: its sign-in lockout ends with it.
            forget_failed_logins(request, user)

        password_reset.connect(_unlock_after_reset, dispatch_uid="accounts.unlock_after_reset")
