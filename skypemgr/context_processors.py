"""Values every template may use, and the rule the other context processors follow on htmx
requests that draw only part of a page."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {"DEV_OUTBOX": settings.DEV_OUTBOX, "SITE_URL": settings.SITE_URL}


def draws_the_layout(request: HttpRequest) -> bool:
    """False for an htmx request that swaps a fragment (a poll, a search as you type): the menus
    and notices of the base layout are not drawn, so the queries behind them are skipped.

    Boosted links and history restores are htmx requests too, but they render whole pages.
    """
    htmx = getattr(request, "htmx", None)
    return not htmx or bool(htmx.boosted or htmx.history_restore_request)
