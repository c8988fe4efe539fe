"""The project's own app configs: its system checks, and Django admin behind allauth."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SkypeMgrConfig(AppConfig):
    """The project package as an app, so that its system checks are registered at start-up."""

    name = "skypemgr"
    verbose_name = "SkypeMgr"

    def ready(self) -> None:
        from skypemgr import checks  # noqa: F401 (registers the checks)


class PlatformAdminConfig(AdminConfig):
    """Django admin for platform staff: signed in through allauth, with two-factor."""

    default_site = "accounts.admin_site.PlatformAdminSite"
