"""A large organization for scale tests and benchmarks (`manage.py seed_scale`).

Owns nothing of the product: it writes the rows the product's services would have written
over months of use (members in lists, calls and messages, their debits, monthly allocations,
purchases, subscription renewals), directly in SQL, because going through the per-record
services would take hours for a million calls. Everything it writes keeps the product's
invariants, as `check_ledger` and `check_rollups` verify:

- the organization is made by the product's own `organization_create` (its accounts and
  settings come with it); the other people, lists, wallets and subscriptions are bulk-inserted;
- the raw rows (usage records, transfers, purchases, renewals) are written first, each with
  its real time (`created_at` in the past), keys as the services make them, and wallets that
  never go below zero at any moment: each month, purchases land on the 1st at 06:00, the
  allocations that cover every member's usage of the month at 07:00, and calls start from
  08:00 (subscription periods start from the 2nd);
- the cached balances, the daily, monthly and ledger rollups are then computed from those rows
  with the same GROUP BY as the checks, so they are exact by construction.

All of it runs in one transaction: a failure leaves nothing behind. `scale_organization_remove`
deletes a seeded organization (for `--replace`).
"""

from dashboard.services.seed_scale.removal import scale_organization_remove
from dashboard.services.seed_scale.seeding import (
    ScaleSpec,
    SeedSummary,
    scale_organization_seed,
)

__all__ = ["ScaleSpec", "SeedSummary", "scale_organization_remove", "scale_organization_seed"]
