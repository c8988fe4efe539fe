"""ASGI entry point, for servers that speak ASGI."""

import os

from django.core.asgi import get_asgi_application

from skypemgr.startup import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skypemgr.settings")

application = get_asgi_application()
freeze_startup_objects()
