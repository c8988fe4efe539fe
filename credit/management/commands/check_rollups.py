"""Verify the daily spending rollups against usage records and feature charges."""

from django.core.management.base import BaseCommand, CommandError

from credit.selectors.rollups import rollup_problems
from organizations.models import Organization


class Command(BaseCommand):
    help = "Check every organization's daily rollups (or one, with --organization SLUG)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="the slug of one organization")

    def handle(self, *args, organization=None, **options):
        target = None
        if organization:
            target = Organization.objects.filter(slug=organization).first()
            if target is None:
                raise CommandError(f"No organization {organization!r}.")
        problems = rollup_problems(target)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The rollups have {len(problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("The rollups are exact."))
