"""WSGI entry point (gunicorn skypemgr.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from skypemgr.startup import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skypemgr.settings")

application = get_wsgi_application()
freeze_startup_objects()
