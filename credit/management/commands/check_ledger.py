"""Verify the books: cached balances, wallets never below zero, accounts summing to zero."""

from credit.management.check_command import CheckCommand
from credit.selectors.ledger import ledger_problems


class Command(CheckCommand):
    help = "Check every organization's ledger (or one, with --organization SLUG)."
    problems = staticmethod(ledger_problems)
    failed = "The ledger has %(count)s problem(s)."
    sound = "The ledger is sound."
