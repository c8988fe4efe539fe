"""The posting function and the books: the smallest end-to-end checks of the ledger."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import InternalError, connection, transaction
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.selectors.ledger import ledger_problems
from credit.services import ledger
from credit.services.allocation import CompanyBalanceShort, credit_allocate, credit_take_back
from credit.services.purchases import purchase_create, purchase_credit, purchase_refund
from organizations.models import Organization
from skypemgr.errors import ApplicationError


def eur(value) -> Money:
    return Money(value, "EUR")


@pytest.fixture
def funded(org, owner):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)
    purchase_credit(purchase=purchase)
    return purchase


def balance(account) -> Money:
    account.refresh_from_db()
    return account.balance


def test_a_purchase_credits_once_and_fixes_the_currency(org, owner, funded):
    purchase_credit(purchase=funded)
    company = ledger.system_account(org, Account.Kind.ORGANIZATION)
    assert balance(company) == eur(100)
    assert Transfer.objects.for_org(org).count() == 1
    assert Organization.objects.get(pk=org.pk).currency_locked_at is not None


def test_allocate_and_take_back(org, owner, admin, employee, funded):
    credit_allocate(
        organization=org,
        actor=admin,
        members=[employee, owner],
        amount="12.5",
        idempotency_key="k1",
    )
    credit_allocate(
        organization=org,
        actor=admin,
        members=[employee, owner],
        amount="12.5",
        idempotency_key="k1",
    )
    wallet = ledger.member_wallet(org, employee)
    assert balance(wallet) == eur("12.5")
    assert balance(ledger.system_account(org, Account.Kind.ORGANIZATION)) == eur(75)
    credit_take_back(organization=org, actor=admin, members=[employee], idempotency_key="t1")
    assert balance(wallet) == eur(0)
    assert ledger_problems() == []


def test_a_short_company_balance_moves_nothing(org, admin, employee, finance, funded):
    with pytest.raises(CompanyBalanceShort) as short:
        credit_allocate(
            organization=org, actor=admin, members=[employee, finance], amount=60,
            idempotency_key="big",
        )  # fmt: skip
    assert short.value.missing == eur(20)
    assert Transfer.objects.for_org(org).count() == 1


def test_taking_back_more_than_a_member_holds_is_refused(org, admin, employee, funded):
    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=5, idempotency_key="a"
    )
    with pytest.raises(ApplicationError, match="cannot take back"):
        credit_take_back(
            organization=org, actor=admin, members=[employee], amount=6, idempotency_key="t"
        )


@pytest.mark.parametrize("amount", ["0", "-1", "1.00001", "abc", "1e400", None, "NaN"])
def test_bad_amounts_are_refused(org, admin, employee, funded, amount):
    with pytest.raises(ApplicationError):
        credit_allocate(
            organization=org, actor=admin, members=[employee], amount=amount, idempotency_key="x"
        )
    assert Transfer.objects.for_org(org).count() == 1


def test_another_currency_is_refused(org, admin, employee, funded):
    with pytest.raises(ApplicationError, match="EUR"):
        credit_allocate(
            organization=org, actor=admin, members=[employee], amount=Money(1, "USD"),
            idempotency_key="usd",
        )  # fmt: skip


def test_a_refund_of_spent_credit_leaves_a_debt_that_the_next_purchase_settles(
    org, owner, admin, employee, funded
):
    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=70, idempotency_key="a"
    )
    purchase_refund(purchase=funded, amount=100, refund_key="re_1")
    purchase_refund(purchase=funded, amount=100, refund_key="re_1")
    company = ledger.system_account(org, Account.Kind.ORGANIZATION)
    receivable = ledger.system_account(org, Account.Kind.RECEIVABLE)
    assert (balance(company), balance(receivable)) == (eur(0), eur(-70))
    second = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)
    purchase_credit(purchase=second)
    assert (balance(company), balance(receivable)) == (eur(30), eur(0))


def test_transfers_cannot_be_edited_or_deleted(org, funded):
    transfer = Transfer.objects.for_org(org).get()
    with pytest.raises(InternalError, match="immutable"), transaction.atomic():
        Transfer.objects.for_org(org).filter(pk=transfer.pk).update(memo="edited")
    with pytest.raises(InternalError, match="immutable"), transaction.atomic():
        Transfer.objects.for_org(org).filter(pk=transfer.pk).delete()


def test_check_ledger_finds_a_break(org, funded):
    call_command("check_ledger")
    company = ledger.system_account(org, Account.Kind.ORGANIZATION)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE credit_account SET balance = balance + 1 WHERE id = %s", [company.pk]
        )
    with pytest.raises(CommandError, match="problem"):
        call_command("check_ledger")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE credit_account SET balance = balance - 1 WHERE id = %s", [company.pk]
        )


def _post_usage(org, wallet, usage, amount, key):
    return ledger.transfer_post(
        organization=org,
        actor=None,
        source=wallet,
        destination=usage,
        amount=amount,
        kind=Transfer.Kind.USAGE,
        idempotency_key=key,
    )


def test_a_key_posted_again_returns_the_first_transfer_even_once_the_money_is_gone(
    org, admin, employee, funded
):
    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=10, idempotency_key="a"
    )
    wallet = ledger.member_wallet(org, employee)
    usage = ledger.system_account(org, Account.Kind.USAGE)
    first = _post_usage(org, wallet, usage, 10, "call-1")

    # The wallet is empty now: the replay is not refused, and moves nothing.
    with transaction.atomic():
        again = _post_usage(org, wallet, usage, 10, "call-1")
        # Inside a caller's transaction, which goes on.
        later = _post_usage(
            org, ledger.system_account(org, Account.Kind.ORGANIZATION), usage, 1, "x"
        )

    assert again.pk == first.pk
    assert later.pk != first.pk
    assert balance(wallet) == eur(0)
    assert balance(usage) == eur(11)
    with pytest.raises(ledger.InsufficientFunds):
        _post_usage(org, wallet, usage, 10, "call-2")


def test_a_batch_with_one_key_posted_before_posts_only_the_others(org, admin, employee, funded):
    company = ledger.system_account(org, Account.Kind.ORGANIZATION)
    wallet = ledger.member_wallet(org, employee)

    def movement(key):
        return ledger.Movement(company, wallet, eur(5), Transfer.Kind.ALLOCATION, key)

    [first] = ledger.transfers_post(organization=org, actor=admin, movements=[movement("m1")])
    posted = ledger.transfers_post(
        organization=org, actor=admin, movements=[movement("m1"), movement("m2")]
    )

    assert posted[0].pk == first.pk
    assert posted[1].pk != first.pk
    assert balance(wallet) == eur(10)
    assert balance(company) == eur(90)


def test_a_posted_transfer_is_the_row_the_database_holds(org, admin, employee, funded):
    """What a posting hands back equals the stored row in every column (the posting builds its
    transfers itself, so a column it forgot would show here)."""
    [posted] = credit_allocate(
        organization=org,
        actor=admin,
        members=[employee],
        amount="12.5",
        idempotency_key="columns",
        memo="Columns",
    )
    # Nothing left for Django to load from the database on first access.
    assert posted.get_deferred_fields() == set()
    stored = Transfer.objects.for_org(org).get(pk=posted.pk)
    for field in Transfer._meta.concrete_fields:
        assert getattr(posted, field.attname) == getattr(stored, field.attname), field.attname
    assert posted.amount == eur("12.5")
    assert posted.source.kind == Account.Kind.ORGANIZATION
    assert posted.destination.member_id == employee.pk
    assert posted.actor == admin
    assert not posted._state.adding
