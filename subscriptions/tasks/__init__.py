"""Celery tasks of the features app (Celery finds them here); each takes the organization id
with the row's id."""

from subscriptions.tasks.notices import *  # noqa: F403
from subscriptions.tasks.numbers import *  # noqa: F403
from subscriptions.tasks.renewals import *  # noqa: F403
