"""What apps above credit do when the company balance receives money, without credit
importing them (credit sits below them in the stack).

An app registers a callback, usually from its AppConfig.ready(): `callback(organization_id)`
runs after the transaction that credited a purchase commits (card, PayPal, bank transfer or
automatic recharge: every purchase is credited by `credit.services.purchases.purchase_credit`).
Callbacks should be quick (send a task); one that raises is logged, not propagated: the money
is in, and each app has a sweep that catches up.
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

# By key, in registration order: registering a key again replaces its callback.
COMPANY_CREDITED: dict[str, Callable[[int], None]] = {}


def register_company_credited(key: str, callback: Callable[[int], None]) -> None:
    COMPANY_CREDITED[key] = callback


def company_credited_after_commit(organization_id: int) -> None:
    """Run every registered callback for the organization once the current transaction
    commits (robust: a failing callback is logged, and the others still run)."""
    for key, callback in COMPANY_CREDITED.items():

        def run(callback=callback) -> None:
            callback(organization_id)

        run.__qualname__ = f"company credited: {key}"
        transaction.on_commit(run, robust=True)
