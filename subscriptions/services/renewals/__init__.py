"""Renewing subscriptions at the end of their period: the charge, the next period, and what
happens when the company balance cannot pay (auto-recharge, past due, grace, suspension).

Owns, on a due subscription: its status, period fields, past_due_since / suspended_at /
ended_at, and its Renewal rows after the first. The first period's row is written by the
assign form (subscriptions.services.assign).

Exactly one renewal per (subscription, period start), whatever happens (a sweep run twice, two
workers, a worker killed mid-renewal): `subscription_renew` locks the subscription row (FOR
UPDATE SKIP LOCKED, so a second sweep passes over it instead of waiting), re-checks that it is
still due, and writes the charge, the Renewal row, the subscription's new period and its audit
event in one transaction. A killed worker's transaction rolls back whole; the renewal's unique
constraint and the charge's idempotency key (`subscription_charge_key`) back the lock up.

Lock order (as the ledger's): the subscription row (step 2, like a purchase or rule row), then
the company balance and the Subscriptions account in id order (`accounts_lock`). Company
auto-recharge takes the organization row, so it is started outside that transaction.

A due period that cannot be paid keeps its Renewal row, status `due`, with `attempts` and
`next_attempt_at`, and the subscription keeps its old period until it is paid: a payment
during grace or suspension pays the period that was due (its start does not move), and the
feature is usable again at once.

Ended numbers and the number-release step (subscriptions.release_held_numbers, written with
the numbers): a subscription with a number that ends here (cancelled or expired) gets
`suspended_at = now` if it had none, exactly like a suspended one, and keeps `released_at`
empty. The release step gives up every number whose subscription is suspended, cancelled or
expired, whose `suspended_at` is older than the organization's `number_hold_days` and that is
not released yet, and sets `released_at`. This module never calls Twilio. A suspended
subscription is retried daily until its number is released (`released_at` set), so a late
payment saves it; one without a number expires once the same hold has passed.

- common: the statuses renewed, the retry delays, the batch size, the outcomes and the reasons
  an end is recorded with; what a batch of one organization shares; the Renewal row and audit
  writes;
- due: finding what is due (the beat sweep's batches, an organization's unpaid subscriptions);
- renew: renewing a batch together, or one by one, and the attempt under the lock;
- short: what happens when the company balance cannot pay, and ending a subscription.

This package's public names are re-exported here.
"""

from subscriptions.services.renewals.common import BATCH, Outcome
from subscriptions.services.renewals.due import subscriptions_due, subscriptions_due_for
from subscriptions.services.renewals.renew import subscription_renew, subscriptions_renew

__all__ = [
    "BATCH",
    "Outcome",
    "subscription_renew",
    "subscriptions_due",
    "subscriptions_due_for",
    "subscriptions_renew",
]
