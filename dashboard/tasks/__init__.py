"""Celery tasks of the reports app (Celery finds them here: a worker knows only the tasks these
imports register); each takes the organization id with the row's id."""

from dashboard.tasks.exports import *  # noqa: F403
from dashboard.tasks.schedules import *  # noqa: F403
