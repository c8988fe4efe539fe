"""`manage.py check_ledger`: silent success on sound books, a message and a failure on each break.

Transfers cannot be changed (a trigger refuses it), so the breaks are made the way a bug or a
hand-edit would make them: raw UPDATEs of credit_account. Each break lives in a savepoint that
is rolled back once the command has seen it, which restores the books (and, for the wallet
below zero, the CHECK constraint dropped to allow it) before the autouse ledger check runs.
"""

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection, transaction

from credit.models import Account
from credit.selectors.ledger import ledger_problems
from credit.services.allocation import credit_allocate
from credit.services.ledger import member_wallet, system_account, transfer_post
from credit.services.purchases import purchase_create, purchase_credit, purchase_refund


@pytest.fixture
def books(org, owner, admin, employee):
    """Books with every kind of movement: purchases, an allocation, usage, a refund of spent
    credit (so something is owed), and the next purchase settling it."""
    first = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)
    purchase_credit(purchase=first)
    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=80, idempotency_key="a"
    )
    transfer_post(
        organization=org,
        actor=None,
        source=member_wallet(org, employee),
        destination=system_account(org, Account.Kind.USAGE),
        amount="12.3456",
        kind="usage",
        idempotency_key="usage:1",
    )
    purchase_refund(purchase=first, amount=50, refund_key="re_1")
    second = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=40)
    purchase_credit(purchase=second)
    assert ledger_problems() == []
    return {
        "company": system_account(org, Account.Kind.ORGANIZATION),
        "wallet": member_wallet(org, employee),
        "usage": system_account(org, Account.Kind.USAGE),
    }


def check(*args) -> str:
    """Run the command; its output when the books are sound, CommandError otherwise."""
    out = StringIO()
    call_command("check_ledger", *args, stdout=out, stderr=out)
    return out.getvalue()


def problems_reported(*args) -> str:
    err = StringIO()
    with pytest.raises(CommandError, match=r"The ledger has \d+ problem"):
        call_command("check_ledger", *args, stdout=StringIO(), stderr=err)
    return err.getvalue()


@contextmanager
def broken(*statements: tuple[str, list]):
    """Apply raw SQL for the duration of the block, then roll it back."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        yield
        transaction.set_rollback(True)
    assert ledger_problems() == []


def add_to_balance(account: Account, amount: str) -> tuple[str, list]:
    return ("UPDATE credit_account SET balance = balance + %s WHERE id = %s", [amount, account.pk])


def test_sound_books_pass(org, books):
    assert "The ledger is sound." in check()
    assert "The ledger is sound." in check("--organization", org.slug)


def test_an_unknown_organization_is_an_error(books):
    with pytest.raises(CommandError, match="No organization 'nowhere'"):
        check("--organization", "nowhere")


def test_a_cached_balance_unlike_its_transfers_is_found(org, books):
    # Five moved from the company to the member in the cached balances only: the accounts
    # still sum to zero, but neither matches its transfers.
    company, wallet = books["company"], books["wallet"]
    with broken(add_to_balance(company, "-5"), add_to_balance(wallet, "5")):
        report = problems_reported()
    assert f"account {company.pk} (organization) caches" in report
    assert f"account {wallet.pk} (member) caches" in report
    assert "sum to" not in report
    assert org.slug in report


def test_accounts_not_summing_to_zero_are_found(org, books):
    with broken(add_to_balance(books["usage"], "0.0001")):
        report = problems_reported()
    assert f"{org.slug}: accounts sum to 0.0001, not zero" in report


def test_a_wallet_below_zero_is_found(org, books):
    wallet, company = books["wallet"], books["company"]
    below = [
        # The CHECK constraint would refuse it: dropped inside the savepoint, back on rollback.
        # (Postgres alters no table with foreign-key checks pending: run them now.)
        ("SET CONSTRAINTS ALL IMMEDIATE", []),
        ("ALTER TABLE credit_account DROP CONSTRAINT account_wallet_not_negative", []),
        ("UPDATE credit_account SET balance = -5 WHERE id = %s", [wallet.pk]),
    ]
    with broken(*below):
        report = problems_reported()
    assert f"{org.slug}: wallet {wallet.pk} is below zero (-5.0000)" in report
    assert f"account {company.pk}" not in report


def test_an_account_in_another_currency_is_found(org, books):
    wallet = books["wallet"]
    with broken(("UPDATE credit_account SET balance_currency = 'USD' WHERE id = %s", [wallet.pk])):
        report = problems_reported()
    assert f"{org.slug}: account {wallet.pk} is not in the currency" in report


def test_a_break_in_one_organization_names_it_and_spares_the_others(
    org, other_org, outsider, books
):
    purchase = purchase_create(
        organization=other_org, actor=outsider, method="bank_transfer", amount=20
    )
    purchase_credit(purchase=purchase)
    theirs = system_account(other_org, Account.Kind.ORGANIZATION)
    with broken(add_to_balance(theirs, "1")):
        report = problems_reported()
        assert "The ledger is sound." in check("--organization", org.slug)
        assert other_org.slug in problems_reported("--organization", other_org.slug)
    assert f"{other_org.slug}: accounts sum to 1.0000, not zero" in report
    assert f"{org.slug}:" not in report


def manage(*args: str) -> int:
    """Run a command the way `manage.py` does, in this process: its exit status."""
    try:
        execute_from_command_line(["manage.py", *args])
    except SystemExit as exit:
        return exit.code
    return 0


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_0_on_sound_books_and_1_on_a_break(org, books, capsys):
    # Outside a test transaction (manage.py closes the connection when it ends).
    assert manage("check_ledger") == 0
    assert capsys.readouterr().out.strip() == "The ledger is sound."

    company = books["company"]
    with connection.cursor() as cursor:
        cursor.execute(*add_to_balance(company, "2"))
    try:
        status = manage("check_ledger")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(*add_to_balance(company, "-2"))
    err = capsys.readouterr().err
    assert status == 1
    assert f"{org.slug}: accounts sum to 2.0000, not zero" in err
    assert "The ledger has 2 problem(s)." in err
