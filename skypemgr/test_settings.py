"""Settings for the test suite: the environment's defaults for tests, then the real settings.

Tests run with development defaults (DEBUG's: no HTTPS redirect, plain static files); the
production settings are checked by `manage.py check --deploy` in `make test`. Redis database 1
and a queue of their own keep tests away from a development server on the same machine.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_QUEUE", "skypemgr-tests")
os.environ.setdefault("SMS_BACKEND", "locmem")
# Playwright's sync API runs an event loop in the test thread; the ORM calls around it are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from skypemgr.settings import *  # noqa: F403

# Separate runs on one machine (several people, or CI beside a developer) each name their own.
DATABASES["default"]["TEST"] = {  # noqa: F405
    "NAME": os.environ.get("TEST_DATABASE_NAME", "test_skypemgr"),
}
