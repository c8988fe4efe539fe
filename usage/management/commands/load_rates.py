"""Load the rate table from a CSV file (the sample that ships with the project by default)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from usage.models import Rate
from usage.services.rates import (
    COLUMNS,
    ERRORS_SHOWN,
    SAMPLE,
    LoadCounts,
    rate_table_read,
    rates_load,
)


class Command(BaseCommand):
    help = (
        "Load rates from a CSV file with the columns "
        + ",".join(COLUMNS)
        + " (default: the sample rate table, usage/fixtures/rates.csv). Every line is checked "
        "first: one bad line and nothing is loaded. Rates are matched by currency and prefix: "
        "new ones are created, changed ones updated; loading the same file again changes "
        "nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(SAMPLE), help="the CSV file")
        parser.add_argument(
            "--currency",
            choices=settings.CURRENCIES,
            help="load only this currency's lines (the others are still checked)",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=(
                "also delete the rates of the loaded currencies (or of --currency) that the "
                "file does not list; other currencies are left alone"
            ),
        )

    def handle(self, *args, path, currency=None, replace=False, **options):
        try:
            table = rate_table_read(path)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from None
        if table.errors:
            for error in table.errors[:ERRORS_SHOWN]:
                self.stderr.write(str(error))
            if len(table.errors) > ERRORS_SHOWN:
                self.stderr.write(f"… and {len(table.errors) - ERRORS_SHOWN} more.")
            lines = len({error.line for error in table.errors})
            raise CommandError(
                f"{path}: {lines} line(s) with errors. Nothing was loaded: correct them and "
                "load the file again."
            )
        if currency and not any(row.currency == currency for row in table.rows):
            raise CommandError(f"{path} has no rates in {currency}. Nothing was loaded.")
        counts = rates_load(model=Rate, rows=table.rows, currency=currency, replace=replace)
        total = LoadCounts()
        for code, found in counts.items():
            total.add(found)
            if options["verbosity"] >= 2:
                self.stdout.write(f"{code}: {_counted(found)}")
        self.stdout.write(self.style.SUCCESS(f"Rates loaded from {path}: {_counted(total)}."))


def _counted(counts: LoadCounts) -> str:
    return (
        f"{counts.created} created, {counts.updated} updated, {counts.removed} removed, "
        f"{counts.unchanged} unchanged"
    )
