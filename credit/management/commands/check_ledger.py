"""Verify the books: cached balances, wallets never below zero, accounts summing to zero."""

from django.core.management.base import BaseCommand, CommandError

from credit.selectors.ledger import ledger_problems
from organizations.models import Organization


class Command(BaseCommand):
    help = "Check every organization's ledger (or one, with --organization SLUG)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="the slug of one organization")

    def handle(self, *args, organization=None, **options):
        target = None
        if organization:
            target = Organization.objects.filter(slug=organization).first()
            if target is None:
                raise CommandError(f"No organization {organization!r}.")
        problems = ledger_problems(target)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger has {len(problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("The ledger is sound."))
