"""The ledger's accounts: the organization's wallet and system accounts, members' wallets, and
the first steps of every posting's lock order (see credit.services.ledger): `currency_guard`,
then `accounts_lock`.

Owns Account rows' creation: the wallet and system accounts with the organization, a member's
wallet on first use (never by a read). Balances are changed by credit.services.ledger only.
"""

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError


def zero(organization: Organization) -> Money:
    return Money(0, organization.currency)


SYSTEM_KINDS = [kind for kind in Account.Kind.values if kind != Account.Kind.MEMBER]


def system_accounts_create(organization: Organization) -> None:
    """The organization's wallet and system accounts, at zero: made with the organization (the
    "organization created" hook), so that postings do not make them, racing each other."""
    Account.objects.for_org(organization).bulk_create(
        [
            Account(organization=organization, kind=kind, balance=zero(organization))
            for kind in SYSTEM_KINDS
        ],
        ignore_conflicts=True,
    )


def system_account(organization: Organization, kind: str) -> Account:
    """The organization's account of `kind` (wallet or system account); made on first use
    for an organization made without them."""
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
    same transaction takes the same locks again at no cost. Runs `currency_guard` first, so
    that a caller locking accounts before posting keeps the module's lock order.
    """
    currency_guard(organization)
    return {
        account.pk: account
        for account in Account.objects.for_org(organization)
        .select_for_update()
        .filter(pk__in=sorted({account.pk for account in accounts}))
        .order_by("pk")
    }


def currency_guard(organization: Organization) -> None:
    """Make sure the organization's currency is fixed, and is the one `organization` says.

    Step 1 of the lock order: a caller runs it before locking any account, inside its
    transaction. Free once the currency is fixed (the object in memory knows it); otherwise
    reads the row, and while the currency is not fixed yet, locks the row and fixes it, so
    that no currency change can slip in while money moves. Refuses a stale organization whose
    currency was changed since it was read.
    """
    if organization.currency_locked_at is not None:
        return
    rows = Organization.objects.filter(pk=organization.pk).values_list(
        "currency", "currency_locked_at"
    )
    currency, locked_at = rows.get()
    if locked_at is None:
        currency, locked_at = rows.select_for_update(no_key=True).get()
    if currency != organization.currency:
        raise ApplicationError(
            _("The organization's currency is now %(currency)s: reload the page and try again.")
            % {"currency": currency},
            code="currency",
        )
    if locked_at is not None:
        organization.currency_locked_at = locked_at
        return
    now = timezone.now()
    Organization.objects.filter(pk=organization.pk).update(currency_locked_at=now)

    def learn() -> None:
        # Only once committed: a rolled-back posting leaves the currency free.
        if organization.currency_locked_at is None:
            organization.currency_locked_at = now

    transaction.on_commit(learn)
