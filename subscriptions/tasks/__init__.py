"""Celery tasks of the features app (Celery finds them here); each takes the organization id
with the row's id."""

from subscriptions.tasks.renewals import *  # noqa: F403
