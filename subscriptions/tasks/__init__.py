"""Celery tasks of the features app (Celery finds them here); each takes the organization id
with the row's id."""

from subscriptions.tasks.numbers import *  # noqa: F403
