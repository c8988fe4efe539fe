"""Values every template may use."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {"DEV_OUTBOX": settings.DEV_OUTBOX, "SITE_URL": settings.SITE_URL}
