"""Allocating credit to members and taking it back: all or nothing, once per form key.

Owns allocation and take-back transfers. Each call posts its transfers through
`transfers_post` in one transaction (which locks the accounts in id order); the idempotency
key of each transfer is the caller's key (a form's one-time key, a rule's period) plus the
member, so a double-submitted form moves money once. The pages ask `form_idempotency_key` and
`form_already_posted` rather than building keys themselves.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.selectors.history import transfer_keys_used
from credit.services.ledger import (
    InsufficientFunds,
    Movement,
    accounts_lock,
    amount_of,
    member_wallets,
    replay_check,
    system_account,
    transfers_post,
)
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError

# What a form of the credit pages does; with the form's one-time key, it names the transfers.
ALLOCATE, TAKE_BACK = "allocate", "take-back"


def form_idempotency_key(*, action: str, form_key: str) -> str:
    """The idempotency key to pass to `credit_allocate` (`action` ALLOCATE) or
    `credit_take_back` (TAKE_BACK) for a form with the one-time key `form_key`."""
    return f"{action}:{form_key}"


def _member_key(idempotency_key: str, member_id: int) -> str:
    return f"{idempotency_key}:member:{member_id}"


def form_already_posted(
    *,
    organization: Organization,
    action: str,
    form_key: str,
    members: Sequence[Member],
    issued_at=None,
) -> bool:
    """Whether the form with this one-time key already moved credit (it was sent before): for
    one of `members`, or, given `issued_at` (when the form was made), for anyone since then
    (the people it named may hold nothing now)."""
    base = form_idempotency_key(action=action, form_key=form_key)
    return transfer_keys_used(
        organization=organization,
        keys=[_member_key(base, member.pk) for member in members],
        prefix=f"{base}:",
        since=issued_at,
    )


# How many names an allocation's audit event keeps (it always keeps the count).
AUDIT_NAMES = 3


class CompanyBalanceShort(ApplicationError):
    """The company balance cannot cover an allocation; `missing` says by how much."""

    code = "company_balance_short"

    def __init__(self, message: str, *, missing: Money):
        super().__init__(message)
        self.missing = missing


def _require_manager(actor: Member | None) -> None:
    if actor is not None and not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(_("Only owners and admins move members' credit."), code="denied")


def _members_here(organization: Organization, members: Sequence[Member]) -> list[Member]:
    """The members (or member ids) as rows of this organization, in id order; refused when
    one is not a member here or none is given. Rows the caller read from this organization
    are used as they are (an allocation to thousands reads them once)."""
    if members and all(
        isinstance(member, Member) and member.organization_id == organization.pk
        for member in members
    ):
        return sorted({member.pk: member for member in members}.values(), key=lambda m: m.pk)
    ids = {member.pk if isinstance(member, Member) else int(member) for member in members}
    found = list(Member.objects.for_org(organization).filter(pk__in=ids).order_by("pk"))
    if len(found) != len(ids):
        raise ApplicationError(_("Some of these people are not members here."), code="not_found")
    if not found:
        raise ApplicationError(_("Choose at least one member."), code="empty")
    return found


def _eligible(organization: Organization, members: Sequence[Member]) -> list[Member]:
    """The members as rows of this organization, refusing anyone who cannot hold credit."""
    found = _members_here(organization, members)
    former = [member for member in found if member.status == Member.Status.REMOVED]
    if former:
        raise ApplicationError(
            _("%(names)s left the organization and cannot receive credit.")
            % {"names": ", ".join(str(member) for member in former[:5])},
            code="former_member",
        )
    # A placeholder has no wallet yet; opening one would keep a revoked invitation from
    # deleting it (Account.member is PROTECT).
    invited = [member for member in found if member.status == Member.Status.INVITED]
    if invited:
        raise ApplicationError(
            _("%(names)s has not joined yet and cannot receive credit.")
            % {"names": ", ".join(str(member) for member in invited[:5])},
            code="not_joined",
        )
    return found


def _names(members: Sequence[Member]) -> list[str]:
    """The first few names, for the audit trail to say whom credit went to or came from."""
    return [str(member) for member in members[:AUDIT_NAMES]]


def _wallets(organization: Organization, members: list[Member]) -> dict[int, Account]:
    """The members' wallets by member id, as postings need them (id, organization, kind: the
    balances are read under the posting's locks); missing ones are opened by the ledger."""
    found = {
        account.member_id: account
        for account in Account.objects.for_org(organization)
        .filter(kind=Account.Kind.MEMBER, member_id__in=[member.pk for member in members])
        .only("organization_id", "kind", "member_id")
    }
    missing = [member for member in members if member.pk not in found]
    if missing:
        found.update(member_wallets(organization, missing))
    return found


@dataclass(frozen=True)
class Allocation:
    """What `credit_allocate_once` did: the transfers, and whether they were posted before
    (the same key: a form sent twice), in which case nothing moved now."""

    transfers: list[Transfer]
    replayed: bool


def credit_allocate(
    *,
    organization: Organization,
    actor: Member | None,
    members: Sequence[Member],
    amount,
    idempotency_key: str,
    kind: str = Transfer.Kind.ALLOCATION,
    memo: str = "",
    ip_address: str | None = None,
) -> list[Transfer]:
    """Give each member `amount` from the company balance, in one transaction; the transfers
    (those posted before under the same key, for a replay). See `credit_allocate_once`."""
    return credit_allocate_once(
        organization=organization,
        actor=actor,
        members=members,
        amount=amount,
        idempotency_key=idempotency_key,
        kind=kind,
        memo=memo,
        ip_address=ip_address,
    ).transfers


def credit_allocate_once(
    *,
    organization: Organization,
    actor: Member | None,
    members: Sequence[Member],
    amount,
    idempotency_key: str,
    kind: str = Transfer.Kind.ALLOCATION,
    memo: str = "",
    ip_address: str | None = None,
) -> Allocation:
    """Give each member `amount` from the company balance, in one transaction, once per key.

    When the company balance is short, nothing moves and CompanyBalanceShort says how much is
    missing. Writes one audit event for the whole allocation. A key posted before (any of its
    members' transfers: a form posts all of them or none) is a replay: nothing moves, no
    second audit event, and the earlier transfers come back.

    Members, their wallets and the keys are each read once, and the accounts locked once (by
    `transfers_post`, in id order). Two posts of one key are serialized by a transaction-level
    advisory lock on the key, taken before any account lock (so it cannot close a cycle with
    them): the second finds the first's transfers.
    """
    _require_manager(actor)
    money = amount_of(amount, organization.currency)
    targets = _eligible(organization, members)
    keys = [_member_key(idempotency_key, member.pk) for member in targets]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"credit_allocate:{organization.pk}:{idempotency_key}"],
            )
        posted = {
            transfer.idempotency_key: transfer
            for transfer in Transfer.objects.for_org(organization).filter(idempotency_key__in=keys)
        }
        company = system_account(organization, Account.Kind.ORGANIZATION)
        wallets = _wallets(organization, targets)
        movements = [
            Movement(
                source=company,
                destination=wallets[member.pk],
                amount=money,
                kind=kind,
                idempotency_key=key,
                memo=memo,
            )
            for member, key in zip(targets, keys, strict=True)
        ]
        if posted:
            # A form sent again: the same movements, or a key reused for others (refused).
            for movement in movements:
                if movement.idempotency_key in posted:
                    replay_check(posted[movement.idempotency_key], movement)
            return Allocation([posted[key] for key in keys if key in posted], replayed=True)
        try:
            transfers = transfers_post(organization=organization, actor=actor, movements=movements)
        except InsufficientFunds:
            short = True
        else:
            short = False
        if short:
            total = money * len(targets)
            balance = Account.objects.for_org(organization).get(pk=company.pk).balance
            missing = total - balance
            raise CompanyBalanceShort(
                _("The company balance (%(balance)s) is short by %(missing)s for %(total)s.")
                % {"balance": balance, "missing": missing, "total": total},
                missing=missing,
            )
        audit_record(
            organization=organization,
            actor=actor,
            verb="credit.allocated",
            target=targets[0] if len(targets) == 1 else None,
            data={
                "amount": str(money.amount),
                "members": len(targets),
                "total": str((money * len(targets)).amount),
                "key": idempotency_key,
                "names": _names(targets),
            },
            ip_address=ip_address,
        )
    return Allocation(transfers, replayed=False)


def credit_take_back(
    *,
    organization: Organization,
    actor: Member | None,
    members: Sequence[Member],
    amount=None,
    idempotency_key: str,
    memo: str = "",
    ip_address: str | None = None,
) -> list[Transfer]:
    """Return credit from members to the company balance: `amount` from each, or all they
    hold when `amount` is None, with `memo` on each transfer. Refused, with nothing moved,
    when a member holds less.

    Locks the company balance and the wallets (in id order) before reading them. A replay of
    the same key (a double-submitted form) returns what the first post took, whatever the
    wallets hold now, and writes no second audit event.
    """
    _require_manager(actor)
    money = amount_of(amount, organization.currency) if amount is not None else None
    targets = _members_here(organization, members)
    with transaction.atomic():
        company = system_account(organization, Account.Kind.ORGANIZATION)
        wallets = member_wallets(organization, targets)
        # Locked and read again by transfers_post; read here to size "all of it".
        locked = accounts_lock(organization, [company, *wallets.values()])
        keys = {member.pk: _member_key(idempotency_key, member.pk) for member in targets}
        done = {
            transfer.idempotency_key: transfer
            for transfer in Transfer.objects.for_org(organization).filter(
                idempotency_key__in=keys.values()
            )
        }
        movements, taken_from = [], []
        # One form posts all its transfers or none: any key seen means the whole form is a
        # replay, and a member it skipped (holding nothing then) stays untouched now.
        replay = bool(done)
        for member in targets:
            wallet = locked[wallets[member.pk].pk]
            key = keys[member.pk]
            if replay and key not in done:
                continue
            if key in done:
                movements.append(
                    Movement(
                        source=wallet,
                        destination=locked[company.pk],
                        amount=done[key].amount,
                        kind=Transfer.Kind.TAKE_BACK,
                        idempotency_key=key,
                        memo=done[key].memo,
                    )
                )
                continue
            take = money if money is not None else wallet.balance
            if take.amount <= 0:
                continue
            if wallet.balance < take:
                raise ApplicationError(
                    _("%(name)s holds %(balance)s: you cannot take back %(amount)s.")
                    % {"name": member, "balance": wallet.balance, "amount": take},
                    code="member_short",
                )
            movements.append(
                Movement(
                    source=wallet,
                    destination=locked[company.pk],
                    amount=take,
                    kind=Transfer.Kind.TAKE_BACK,
                    idempotency_key=key,
                    memo=memo,
                )
            )
            taken_from.append(member)
        if not movements:
            raise ApplicationError(_("These members hold no credit to take back."), code="empty")
        transfers = transfers_post(organization=organization, actor=actor, movements=movements)
        if all(movement.idempotency_key in done for movement in movements):
            return transfers
        audit_record(
            organization=organization,
            actor=actor,
            verb="credit.taken_back",
            target=taken_from[0] if len(taken_from) == 1 else None,
            data={
                "members": len(movements),
                "total": str(sum((m.amount.amount for m in movements), start=0)),
                "key": idempotency_key,
                "names": _names(taken_from),
            },
            ip_address=ip_address,
        )
    return transfers
