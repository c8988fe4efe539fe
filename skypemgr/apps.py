"""The project's own app config: its system checks."""

from django.apps import AppConfig


class SkypeMgrConfig(AppConfig):
    """The project package as an app, so that its system checks are registered at start-up."""

    name = "skypemgr"
    verbose_name = "SkypeMgr"

    def ready(self) -> None:
        from skypemgr import checks  # noqa: F401 (registers the checks)
