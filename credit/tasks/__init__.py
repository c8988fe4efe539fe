"""Tasks of the credit app (Celery finds them here): purchases and Stripe, and rules."""

from credit.tasks.purchases import *  # noqa: F403
from credit.tasks.rules import *  # noqa: F403
