"""The ledger's one writer: posting transfers between accounts.

Owns Account balances and Transfer rows. Every movement of money in the product goes through
`transfer_post` (or `transfers_post` for several at once, atomically): it locks the accounts
involved in id order, refuses what would take a wallet below zero, writes the transfer and the
cached balances in one transaction, and returns the existing transfer when its idempotency key
was seen before with the same movement (the same key for another movement is refused:
IdempotencyKeyReused). The organization's accounts therefore always sum to zero.

Lock order, for every transaction that moves money (so that none waits on another in a cycle):
1. the organization row (purchase creation and auto-recharge take it to decide; the ledger
   takes it only while the currency is not fixed yet, see `currency_guard`);
2. the purchase, credit settings or rule row the operation is about;
3. the accounts, in id order (`accounts_lock`, and `transfers_post` again at no cost);
4. the spending rollups' rows, in (member, day, category) order, then (member, month, category)
   (`rollups_add`); the accounts' ledger rollups come last, under the accounts' locks.
The currency is fixed when the first purchase is created (credit.services.purchases), under
the organization row; a transfer without any purchase (a staff adjustment, usage) fixes it
here, taking the organization row before any account. Once fixed (the database refuses to
change it after that), postings never touch the organization row.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.services.accounts import (
    accounts_lock,
    currency_guard,
    member_wallet,
    member_wallets,
    system_account,
    zero,
)
from credit.services.rollups import RollupEntry, ledger_rollups_add, rollup_day, rollups_add
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError

# The accounts' functions are part of the ledger's public names (callers import them here).
__all__ = [
    "MAX_AMOUNT",
    "PLACES",
    "IdempotencyKeyReused",
    "InsufficientFunds",
    "Movement",
    "accounts_lock",
    "amount_of",
    "currency_guard",
    "member_wallet",
    "member_wallets",
    "number_of",
    "replay_check",
    "system_account",
    "transfer_post",
    "transfers_post",
    "zero",
]

PLACES = Decimal("0.0001")
MAX_AMOUNT = Decimal("1000000000")


class InsufficientFunds(ApplicationError):
    """A wallet would go below zero. `missing` says by how much."""

    code = "insufficient_funds"

    def __init__(self, message: str, *, account: Account, missing: Money):
        super().__init__(message)
        self.account = account
        self.missing = missing


class IdempotencyKeyReused(ApplicationError):
    """An idempotency key seen before for another movement (other accounts, amount or kind):
    nothing is posted, and the earlier transfer is not passed off as this one."""

    code = "idempotency_key_reused"


# A number as programs write it: digits, at most one point, no sign but minus, no grouping, no
# exponent. People's text ("1,500.50", "1 500,50") is read by the forms, in their language.
_MACHINE_NUMBER = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")


def number_of(value) -> Decimal:
    """The number in a Money, Decimal, int or plain machine string such as "12.50"; anything
    else (a float, "1,50", "1e3", "NaN", text) is refused with ApplicationError."""
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, bool):
        number = None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str) and _MACHINE_NUMBER.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        number = None
    if number is None or not number.is_finite():
        raise ApplicationError(_("Enter an amount, such as 25 or 12.50."), code="amount")
    return number


def amount_of(value, currency: str) -> Money:
    """A positive amount with at most 4 decimal places, in `currency`, from Money (in that
    currency), Decimal, int or a plain machine string (see `number_of`); ApplicationError if
    not."""
    if isinstance(value, Money) and str(value.currency) != currency:
        raise ApplicationError(
            _("Amounts are in %(currency)s in this organization.") % {"currency": currency},
            code="currency",
        )
    number = number_of(value)
    if number <= 0:
        raise ApplicationError(_("Enter an amount greater than zero."), code="amount")
    if number > MAX_AMOUNT:
        raise ApplicationError(_("This amount is too large."), code="amount")
    if number != number.quantize(PLACES):
        raise ApplicationError(_("Use at most 4 decimal places."), code="amount")
    return Money(number.quantize(PLACES), currency)


# --- Posting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One transfer to post: from `source` to `destination`, `amount` (in the org currency)."""

    source: Account
    destination: Account
    amount: Money
    kind: str
    idempotency_key: str
    memo: str = ""
    reverses: Transfer | None = None
    # What this movement adds to the spending rollups (credit.services.rollups), written in the
    # same transaction when the transfer is new, never on a replay.
    rollup: RollupEntry | None = None


def transfer_post(
    *,
    organization: Organization,
    actor: Member | None,
    source: Account,
    destination: Account,
    amount,
    kind: str,
    idempotency_key: str,
    memo: str = "",
    reverses: Transfer | None = None,
) -> Transfer:
    """Post one transfer (see `transfers_post`) and return it, or the one posted before with
    the same idempotency key."""
    money = amount_of(amount, organization.currency)
    [posted] = transfers_post(
        organization=organization,
        actor=actor,
        movements=[
            Movement(source, destination, money, kind, idempotency_key, memo, reverses),
        ],
    )
    return posted


def transfers_post(
    *, organization: Organization, actor: Member | None, movements: Sequence[Movement]
) -> list[Transfer]:
    """Post several transfers atomically: all or none.

    Locks every account involved, in id order (so that concurrent postings never deadlock),
    then for each movement: returns the existing transfer when its idempotency key was posted
    before for the same movement (source, destination, amount and kind; another movement
    raises IdempotencyKeyReused); refuses a wallet going below zero (InsufficientFunds,
    nothing written); otherwise writes the transfer and the new cached balances. Before the
    accounts, `currency_guard` (the module's lock order).

    A key posted before is rare (a double-submitted form, a replayed webhook), so the first
    attempt does not look keys up: the key's unique constraint catches a replay, and the
    posting runs again, looking them up. The same retry covers two postings of one key at
    once over different accounts (the database makes the second wait for the first to
    commit); over the same accounts they queue on the locks, and the second finds the first's
    transfer.
    """
    if not movements:
        return []
    currency = organization.currency
    amounts = set()
    for movement in movements:
        if str(movement.amount.currency) != currency:
            raise ApplicationError(
                _("Amounts are in %(currency)s in this organization.") % {"currency": currency},
                code="currency",
            )
        if movement.source.organization_id != organization.pk or (
            movement.destination.organization_id != organization.pk
        ):
            raise ApplicationError(_("Both accounts must be this organization's."))
        if movement.source.pk == movement.destination.pk:
            raise ApplicationError(_("A transfer needs two different accounts."))
        if movement.reverses is not None and movement.reverses.organization_id != organization.pk:
            raise ApplicationError(_("A transfer can only correct this organization's transfers."))
        amounts.add(movement.amount.amount)
    for amount in amounts:
        amount_of(amount, currency)
    try:
        return _post(organization, actor, movements, keys_looked_up=False)
    except IntegrityError as error:
        if _violated_constraint(error) != "transfer_idempotency_key":
            raise
    try:
        return _post(organization, actor, movements, keys_looked_up=True)
    except IntegrityError as error:
        if _violated_constraint(error) != "transfer_idempotency_key":
            raise
        return _post(organization, actor, movements, keys_looked_up=True)


def _violated_constraint(error: IntegrityError) -> str | None:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)


# The posting's own statements, written out: the ORM's query building cost several times the
# database's work on this path (see bench/ledger.py). Each names the organization, as the
# tenant-scoped managers would.
_LOCK_ACCOUNTS = """
    SELECT id, balance FROM credit_account
    WHERE organization_id = %s AND id = ANY(%s)
    ORDER BY id
    FOR UPDATE
"""
# The new transfers and the accounts' new balances in one statement (a data-modifying WITH
# runs to completion whether or not its rows are read).
_WRITE = """
    WITH balances AS (
        UPDATE credit_account AS account SET balance = posted.balance
        FROM unnest(%s::bigint[], %s::numeric[]) AS posted(id, balance)
        WHERE account.id = posted.id AND account.organization_id = %s
    )
    INSERT INTO credit_transfer (
        organization_id, amount_currency, actor_id, created_at,
        source_id, destination_id, amount, kind, memo, idempotency_key, reverses_id
    )
    SELECT %s, %s, %s, %s, new.*
    FROM unnest(
        %s::bigint[], %s::bigint[], %s::numeric[], %s::text[], %s::text[], %s::text[], %s::bigint[]
    ) AS new
    RETURNING id, idempotency_key
"""


def _posted_before(organization: Organization, movements: Sequence[Movement]) -> dict:
    """The transfers already posted under these movements' keys, by key."""
    keys = list({movement.idempotency_key: None for movement in movements})
    return {
        transfer.idempotency_key: transfer
        for transfer in Transfer.objects.for_org(organization).filter(idempotency_key__in=keys)
    }


def _post(
    organization: Organization,
    actor: Member | None,
    movements: Sequence[Movement],
    *,
    keys_looked_up: bool,
) -> list[Transfer]:
    currency = organization.currency
    account_ids = sorted({m.source.pk for m in movements} | {m.destination.pk for m in movements})
    with transaction.atomic(), connection.cursor() as cursor:
        currency_guard(organization)
        cursor.execute(_LOCK_ACCOUNTS, [organization.pk, account_ids])
        locked = dict(cursor.fetchall())
        if len(locked) != len(account_ids):
            raise ApplicationError(_("Both accounts must be this organization's."))
        now = timezone.now()
        before = _posted_before(organization, movements) if keys_looked_up else {}
        try:
            balances, posted, new = _apply(organization, actor, movements, locked, before, now)
        except InsufficientFunds:
            if keys_looked_up:
                raise
            # Perhaps a replay of a posting that went through when the money was there.
            before = _posted_before(organization, movements)
            if not before:
                raise
            balances, posted, new = _apply(organization, actor, movements, locked, before, now)
        if new:
            _write(cursor, organization, actor, balances, new, now)
            written = {transfer.idempotency_key for transfer in new}
            rollups_add(
                organization,
                [m.rollup for m in movements if m.rollup and m.idempotency_key in written],
            )
            ledger_rollups_add(
                organization, new, month=rollup_day(organization, now).replace(day=1)
            )
            _after_commit_dropped(organization, new)
        for movement in movements:
            # Callers see the balances as posted.
            movement.source.balance = Money(balances[movement.source.pk], currency)
            movement.destination.balance = Money(balances[movement.destination.pk], currency)
    return posted


def _apply(organization, actor, movements, locked, before, now):
    """The balances after the movements, the transfers (posted before or new) and the new
    ones; InsufficientFunds when a wallet would go below zero."""
    currency = organization.currency
    balances = dict(locked)
    existing = dict(before)
    posted, new = [], []
    for movement in movements:
        key = movement.idempotency_key
        if key in existing:
            replay_check(existing[key], movement)
            posted.append(existing[key])
            continue
        source, destination = movement.source, movement.destination
        amount = movement.amount.amount
        if source.is_wallet and balances[source.pk] < amount:
            source.balance = Money(balances[source.pk], currency)
            missing = movement.amount - source.balance
            raise InsufficientFunds(
                _("%(account)s is short by %(missing)s.") % {"account": source, "missing": missing},
                account=source,
                missing=missing,
            )
        balances[source.pk] -= amount
        balances[destination.pk] += amount
        transfer = _new_transfer(organization, actor, movement, now)
        existing[key] = transfer
        posted.append(transfer)
        new.append(transfer)
    return balances, posted, new


def replay_check(transfer: Transfer, movement: Movement) -> None:
    """A key seen before stands for the movement it was first posted for, and only that:
    IdempotencyKeyReused when `movement` is another one. For callers that find their replays
    themselves (credit_allocate_once); postings check it on every replay."""
    same = (
        transfer.source_id == movement.source.pk
        and transfer.destination_id == movement.destination.pk
        and transfer.amount == movement.amount
        and transfer.kind == movement.kind
    )
    if not same:
        raise IdempotencyKeyReused(
            _(
                "This was already recorded as a different movement of money, so nothing was "
                "moved. Start again to make a new one."
            )
        )


def _new_transfer(organization, actor, movement: Movement, now) -> Transfer:
    """The Transfer a movement will write (unsaved), its related rows already at hand.

    Built the way Django fills a model's attributes, without running a descriptor per field
    (the constructor's cost, about 0.1 ms a transfer, counted for an allocation to thousands).
    Transfer has no init signals' receivers. Every column must be set here: a test compares
    what a posting returns with the row read back, field by field."""
    values = {
        "id": None,
        "organization_id": organization.pk,
        "source_id": movement.source.pk,
        "destination_id": movement.destination.pk,
        "amount_currency": organization.currency,
        "amount": movement.amount,
        "kind": movement.kind,
        "actor_id": actor.pk if actor is not None else None,
        "memo": movement.memo[:255],
        "idempotency_key": movement.idempotency_key,
        "reverses_id": movement.reverses.pk if movement.reverses is not None else None,
        "created_at": now,
    }
    transfer = Transfer.__new__(Transfer)
    transfer.__dict__.update(values)
    transfer._state = ModelState()
    transfer._state.fields_cache.update(
        organization=organization,
        source=movement.source,
        destination=movement.destination,
        actor=actor,
        reverses=movement.reverses,
    )
    return transfer


def _write(cursor, organization, actor, balances, new, now) -> None:
    """Insert the new transfers and store the accounts' new balances, in one statement."""
    touched = sorted({t.source_id for t in new} | {t.destination_id for t in new})
    cursor.execute(
        _WRITE,
        [
            touched,
            [balances[pk] for pk in touched],
            organization.pk,
            organization.pk,
            organization.currency,
            actor.pk if actor is not None else None,
            now,
            [t.source_id for t in new],
            [t.destination_id for t in new],
            [t.amount.amount for t in new],
            [t.kind for t in new],
            [t.memo for t in new],
            [t.idempotency_key for t in new],
            [t.reverses_id for t in new],
        ],
    )
    ids = {key: pk for pk, key in cursor.fetchall()}
    for transfer in new:
        transfer.pk = ids[transfer.idempotency_key]
        transfer._state.adding = False
        transfer._state.db = connection.alias


def _after_commit_dropped(organization: Organization, transfers: list[Transfer]) -> None:
    """Tell the rules which wallets went down (auto-recharges and alerts react after commit)."""
    debited = sorted({t.source_id for t in transfers if t.source.is_wallet})
    if not debited:
        return
    from credit.tasks.rules import balances_dropped

    kinds = sorted({t.kind for t in transfers if t.source.is_wallet})

    def balances_dropped_notify() -> None:
        from credit.services.dropped import dropped_note

        if dropped_note(organization_id=organization.pk, account_ids=debited, kinds=kinds):
            balances_dropped.delay(organization.pk)

    # Robust: the money has moved; with Redis or the broker down the error is logged and the
    # periodic check (credit.check_auto_recharges) finds the wallets below their thresholds.
    transaction.on_commit(balances_dropped_notify, robust=True)
