"""Celery tasks of the usage app (Celery finds them here: a worker knows only the tasks these
imports register)."""

from usage.tasks.alerts import *  # noqa: F403
from usage.tasks.prices import *  # noqa: F403
