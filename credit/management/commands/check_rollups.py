"""Verify the daily spending rollups against usage records and feature charges."""

from credit.management.check_command import CheckCommand
from credit.selectors.rollups import rollup_problems


class Command(CheckCommand):
    help = "Check every organization's daily rollups (or one, with --organization SLUG)."
    problems = staticmethod(rollup_problems)
    failed = "The rollups have %(count)s problem(s)."
    sound = "The rollups are exact."
