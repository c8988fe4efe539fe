"""What check_ledger and check_rollups share: one organization (--organization SLUG) or all,
each problem on stderr, and a failing exit when there is any."""

from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError

from organizations.models import Organization


class CheckCommand(BaseCommand):
    # Set by each command: what finds the problems, and what it says of them.
    problems: Callable[[Organization | None], list[str]]
    failed = ""
    sound = ""

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="the slug of one organization")

    def handle(self, *args, organization=None, **options):
        target = None
        if organization:
            target = Organization.objects.filter(slug=organization).first()
            if target is None:
                raise CommandError(f"No organization {organization!r}.")
        problems = type(self).problems(target)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(self.failed % {"count": len(problems)})
        self.stdout.write(self.style.SUCCESS(self.sound))
