"""Seed a large organization for scale tests and benchmarks: 1,000 members in 20 lists and 12
months of usage (1,000,000 calls) by default, with its purchases, allocations and renewals,
written in SQL in a few minutes (dashboard.services.seed_scale). Not demo data: `make run`
never runs it.

Development only (it records payments that never happened): it refuses to run without DEBUG.
The seeded people cannot sign in unless --password is given, which then opens the owner's
and the first finance member's accounts (their usernames are printed).

    DEBUG=true python manage.py seed_scale
    DEBUG=true python manage.py seed_scale --members 200 --records 50000 --replace
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.services.seed_scale import ScaleSpec, scale_organization_seed
from skypemgr.errors import ApplicationError

DEFAULTS = ScaleSpec()


class Command(BaseCommand):
    help = "Create a large organization with a year of usage, for scale tests and benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=DEFAULTS.members)
        parser.add_argument("--lists", type=int, default=DEFAULTS.lists)
        parser.add_argument(
            "--records", type=int, default=DEFAULTS.calls, help="call records (default 1,000,000)"
        )
        parser.add_argument(
            "--messages", type=int, default=None, help="SMS records (default: records / 20)"
        )
        parser.add_argument(
            "--subscriptions",
            type=int,
            default=None,
            help="monthly subscriptions (default: 3 members in 10)",
        )
        parser.add_argument(
            "--months", type=int, default=DEFAULTS.months, help="months of history, to this one"
        )
        parser.add_argument("--slug", default=DEFAULTS.slug)
        parser.add_argument("--name", default=DEFAULTS.name)
        parser.add_argument("--currency", default=DEFAULTS.currency)
        parser.add_argument("--time-zone", default=DEFAULTS.time_zone)
        parser.add_argument("--country", default=DEFAULTS.country)
        parser.add_argument("--seed", type=int, default=DEFAULTS.random_seed, help="random seed")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the organization at --slug, with all its data, and seed it again",
        )
        parser.add_argument(
            "--password",
            default="",
            help="let the owner and the first finance member sign in with this password",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_scale records payments that never happened, so it runs only with "
                "DEBUG=true (development, benchmarks). Nothing was created."
            )
        spec = ScaleSpec(
            slug=options["slug"],
            name=options["name"],
            members=options["members"],
            lists=options["lists"],
            calls=options["records"],
            messages=options["messages"],
            months=options["months"],
            subscriptions=options["subscriptions"],
            currency=options["currency"].upper(),
            time_zone=options["time_zone"],
            country=options["country"].upper(),
            random_seed=options["seed"],
        )
        try:
            summary = scale_organization_seed(
                spec=spec,
                replace=options["replace"],
                password=options["password"],
                progress=self.stdout.write,
            )
        except ApplicationError as error:
            raise CommandError(str(error.message)) from None
        for name, count in summary.counts.items():
            self.stdout.write(f"  {name}: {count:,}")
        organization = summary.organization
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded /o/{organization.slug}/ in {summary.seconds:.1f} s "
                f"(check it: manage.py check_ledger --organization {organization.slug}; "
                f"manage.py check_rollups --organization {organization.slug})."
            )
        )
        if options["password"]:
            self.stdout.write(
                f"Sign in as {summary.owner.username} (owner) or {summary.finance.username} "
                "(finance) with the password given."
            )
