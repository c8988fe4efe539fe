"""The ledger's one writer: posting transfers between accounts.

Owns Account balances and Transfer rows. Every movement of money in the product goes through
`transfer_post` (or `transfers_post` for several at once, atomically): it locks the accounts
involved in id order, refuses what would take a wallet below zero, writes the transfer and the
cached balances in one transaction, and returns the existing transfer when its idempotency key
was seen before. The organization's accounts therefore always sum to zero.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, Transfer
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError

PLACES = Decimal("0.0001")
MAX_AMOUNT = Decimal("1000000000")


class InsufficientFunds(ApplicationError):
    """A wallet would go below zero. `missing` says by how much."""

    code = "insufficient_funds"

    def __init__(self, message: str, *, account: Account, missing: Money):
        super().__init__(message)
        self.account = account
        self.missing = missing


def amount_of(value, currency: str) -> Money:
    """A positive amount with at most 4 decimal places, in `currency`; ApplicationError if not."""
    if isinstance(value, Money):
        if str(value.currency) != currency:
            raise ApplicationError(
                _("Amounts are in %(currency)s in this organization.") % {"currency": currency},
                code="currency",
            )
        value = value.amount
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if value is not None else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ApplicationError(_("Enter an amount, such as 25 or 12.50."), code="amount")
    if number <= 0:
        raise ApplicationError(_("Enter an amount greater than zero."), code="amount")
    if number > MAX_AMOUNT:
        raise ApplicationError(_("This amount is too large."), code="amount")
    if number != number.quantize(PLACES):
        raise ApplicationError(_("Use at most 4 decimal places."), code="amount")
    return Money(number.quantize(PLACES), currency)


def zero(organization: Organization) -> Money:
    return Money(0, organization.currency)


# --- Accounts ------------------------------------------------------------------------------


def system_account(organization: Organization, kind: str) -> Account:
    """The organization's account of `kind` (wallet or system account), created on first use."""
    account = Account.objects.for_org(organization).filter(kind=kind, member=None).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                organization=organization, kind=kind, balance=zero(organization)
            )
    except IntegrityError:
        return Account.objects.for_org(organization).get(kind=kind, member=None)


def member_wallet(organization: Organization, member: Member) -> Account:
    """The member's wallet, created on first use."""
    if member.organization_id != organization.pk:
        raise ApplicationError(_("This person is not a member here."), code="not_found")
    account = Account.objects.for_org(organization).filter(member=member).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                organization=organization,
                kind=Account.Kind.MEMBER,
                member=member,
                balance=zero(organization),
            )
    except IntegrityError:
        return Account.objects.for_org(organization).get(member=member)


def member_wallets(organization: Organization, members: Sequence[Member]) -> dict[int, Account]:
    """Wallets of many members at once, keyed by member id (created where missing)."""
    found = {
        account.member_id: account
        for account in Account.objects.for_org(organization).filter(member__in=members)
    }
    missing = [member for member in members if member.pk not in found]
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    organization=organization,
                    kind=Account.Kind.MEMBER,
                    member=member,
                    balance=zero(organization),
                )
                for member in missing
            ],
            ignore_conflicts=True,
        )
        found = {
            account.member_id: account
            for account in Account.objects.for_org(organization).filter(member__in=members)
        }
    return found


def accounts_lock(organization: Organization, accounts: Sequence[Account]) -> dict[int, Account]:
    """Lock accounts in id order (the order every posting uses) and return them fresh, by id.

    For callers that must read balances before deciding what to post; `transfers_post` in the
    same transaction takes the same locks again at no cost.
    """
    return {
        account.pk: account
        for account in Account.objects.for_org(organization)
        .select_for_update()
        .filter(pk__in=sorted({account.pk for account in accounts}))
        .order_by("pk")
    }


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
    before; refuses a wallet going below zero (InsufficientFunds, nothing written); otherwise
    writes the transfer and the new cached balances. Marks the organization's currency as
    fixed at its first transfer.

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
        amount_of(movement.amount, currency)
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
            _after_commit_dropped(organization, new)
            if organization.currency_locked_at is None:
                _currency_lock(organization, now)
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
        transfer = Transfer(
            organization=organization,
            source=source,
            destination=destination,
            amount=movement.amount,
            kind=movement.kind,
            actor=actor,
            memo=movement.memo[:255],
            idempotency_key=key,
            reverses=movement.reverses,
            created_at=now,
        )
        existing[key] = transfer
        posted.append(transfer)
        new.append(transfer)
    return balances, posted, new


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


def _currency_lock(organization: Organization, now) -> None:
    """The organization's first transfer fixes its currency. The object in memory learns it
    once committed, so that later postings through it skip this statement."""
    Organization.objects.filter(pk=organization.pk, currency_locked_at__isnull=True).update(
        currency_locked_at=now
    )

    def learn() -> None:
        if organization.currency_locked_at is None:
            organization.currency_locked_at = now

    transaction.on_commit(learn)


def _after_commit_dropped(organization: Organization, transfers: list[Transfer]) -> None:
    """Tell the rules which wallets went down (auto-recharges and alerts react after commit)."""
    debited = sorted({t.source_id for t in transfers if t.source.is_wallet})
    if not debited:
        return
    from credit.tasks.rules import balances_dropped

    kinds = sorted({t.kind for t in transfers if t.source.is_wallet})

    def notify() -> None:
        from credit.services.dropped import dropped_note

        if dropped_note(organization_id=organization.pk, account_ids=debited, kinds=kinds):
            balances_dropped.delay(organization.pk)

    transaction.on_commit(notify)
