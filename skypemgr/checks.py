"""System checks for settings that are fine in development and dangerous in production.

Tagged `deploy`: `manage.py check --deploy` (and `make test`, with production values) runs them.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def dev_outbox_only_with_debug(app_configs, **kwargs) -> list[Warning]:
    if settings.DEV_OUTBOX and not settings.DEBUG:
        return [
            Warning(
                "DEV_OUTBOX is on without DEBUG: /dev/outbox/ shows every email and SMS sent, "
                "with their sign-in, invitation and password reset links, to anyone, without "
                "signing in.",
                hint="Set DEV_OUTBOX=false (or leave it unset) in production.",
                id="skypemgr.W001",
            )
        ]
    return []
