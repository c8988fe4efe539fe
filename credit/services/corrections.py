"""Staff corrections of the books: a transfer the other way, never an edit.

Owns the transfers of kind "adjustment" that reverse (`reverses`) another transfer, in whole or
in part, with a memo saying why; platform staff post them from the Django admin. What was
reversed already (refunds of a purchase included) is counted, so a transfer is never reversed
for more than it moved, and a wallet never goes below zero (the credit was spent: refused).

Locks (the ledger's order): the accounts of the transfer, in id order, before reading what
was reversed already, so that two corrections at once cannot both take the same part.
"""

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from djmoney.money import Money

from credit.models import Transfer
from credit.services.ledger import (
    InsufficientFunds,
    Movement,
    accounts_lock,
    amount_of,
    transfers_post,
)
from organizations.audit import audit_record
from skypemgr.errors import ApplicationError

AUDIT_VERBS = {"transfer.corrected": gettext_lazy("corrected the transfer")}


def transfer_reversed_so_far(transfer: Transfer) -> Money:
    """What later transfers have given back of `transfer` (corrections and refunds)."""
    total = (
        Transfer.objects.for_org(transfer.organization)
        .filter(reverses=transfer)
        .aggregate(total=Sum("amount"))["total"]
    )
    return Money(total or 0, transfer.amount.currency)


def transfer_reverse(
    *,
    transfer: Transfer,
    memo: str,
    staff_label: str,
    idempotency_key: str,
    amount=None,
) -> Transfer:
    """Post a correcting transfer from `transfer`'s destination back to its source: `amount`
    (Money, Decimal, int or "12.50"), or all that is not reversed yet when None. `memo` says
    why (required). `idempotency_key` (a form's one-time key) makes a form sent twice post
    once. Writes an audit event naming the staff member. Raises ApplicationError when the
    amount is more than what is left to reverse, or when a wallet does not hold it.
    """
    organization = transfer.organization
    memo = " ".join((memo or "").split())
    if not memo:
        raise ApplicationError(_("Say why this transfer is corrected."), field="memo")
    if len(memo) > 255:
        raise ApplicationError(_("Keep the reason to 255 characters."), field="memo")
    money = amount_of(amount, organization.currency) if amount not in (None, "") else None
    key = f"correction:{transfer.pk}:{idempotency_key}"
    with transaction.atomic():
        accounts_lock(organization, [transfer.source, transfer.destination])
        done = Transfer.objects.for_org(organization).filter(idempotency_key=key).first()
        if done is not None:
            return done
        left = transfer.amount - transfer_reversed_so_far(transfer)
        if money is None:
            money = left
        if left.amount <= 0:
            raise ApplicationError(
                _("This transfer was already reversed in full."), code="reversed"
            )
        if money > left:
            raise ApplicationError(
                _("At most %(left)s of this transfer is left to reverse.") % {"left": left},
                field="amount",
                code="too_much",
            )
        try:
            [correction] = transfers_post(
                organization=organization,
                actor=None,
                movements=[
                    Movement(
                        source=transfer.destination,
                        destination=transfer.source,
                        amount=money,
                        kind=Transfer.Kind.ADJUSTMENT,
                        idempotency_key=key,
                        memo=memo,
                        reverses=transfer,
                    )
                ],
            )
        except InsufficientFunds as short:
            raise ApplicationError(
                _(
                    "%(account)s holds %(balance)s: it cannot give back %(amount)s. The credit "
                    "was spent or moved on since."
                )
                % {"account": short.account, "balance": short.account.balance, "amount": money},
                field="amount",
                code="insufficient_funds",
            ) from short
        audit_record(
            organization=organization,
            actor=None,
            actor_label=staff_label[:200],
            verb="transfer.corrected",
            target=transfer,
            data={
                "amount": str(money.amount),
                "memo": memo,
                "correction": correction.pk,
                "kind": transfer.kind,
            },
        )
    return correction
