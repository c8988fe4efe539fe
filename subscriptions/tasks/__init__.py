"""Celery tasks of the features app; each takes the organization id with the row's id."""

from subscriptions.tasks import numbers  # noqa: F401
