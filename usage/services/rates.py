"""The rate table as platform staff load it: a CSV file read and checked line by line
(`rate_table_read`), then written in one transaction (`rates_load`).

A file is loaded whole or not at all: any bad line (each reported with its line number) and
nothing is written. Loading upserts by (currency, prefix), so loading the same file twice
changes nothing the second time; `replace` also deletes the rates of the file's currencies
that the file no longer lists.

The model is passed in (`usage.models.Rate`, or the historical model in a data migration):
this module imports no model, so migrations can use it.
"""

import csv
import functools
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_countries import countries

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "rates.csv"
COLUMNS = (
    "prefix",
    "country",
    "description",
    "line_type",
    "currency",
    "per_minute",
    "per_sms",
    "increment",
    "blocked",
)
LINE_TYPES = ("landline", "mobile", "other")
INCREMENTS = ("minute", "second")
# Rate.description's max_length.
DESCRIPTION_LENGTH = 100
# Rate's DecimalField(max_digits=19, decimal_places=4): 15 digits before the point, 4 after.
_PRICE = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,4})?", re.ASCII)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_PREFIX = re.compile(r"[0-9]{1,15}", re.ASCII)
# phonenumbers' region for the calling codes that belong to no country (satellite phones,
# international networks): their rates have no country.
NON_GEOGRAPHIC = "001"
# Lines listed before "... and N more" (a wrong file can have thousands of bad lines).
ERRORS_SHOWN = 100
_BATCH = 1000
_UPDATED_FIELDS = [
    "country",
    "description",
    "line_type",
    "per_minute",
    "per_sms",
    "increment",
    "blocked",
    "updated_at",
]


@dataclass(frozen=True)
class RateRow:
    """One line of a rate file, checked."""

    prefix: str
    country: str
    description: str
    line_type: str
    currency: str
    per_minute: Decimal
    per_sms: Decimal
    increment: str
    blocked: bool

    def differs_from(self, rate) -> bool:
        return any(
            getattr(rate, name) != getattr(self, name)
            for name in COLUMNS
            if name not in ("prefix", "currency")
        )


@dataclass(frozen=True)
class LineError:
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class RateTable:
    rows: tuple[RateRow, ...]
    errors: tuple[LineError, ...]


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def add(self, other: "LoadCounts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.removed += other.removed


@dataclass
class _Checked:
    values: dict = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def refuse(self, column: str, message: str) -> None:
        self.problems.append((column, message))


def _shown(value: str) -> str:
    """A value quoted in a message, cut short and with invisible characters made visible."""
    text = value if len(value) <= 40 else value[:40] + "…"
    return '"' + "".join(char if char.isprintable() else "�" for char in text) + '"'


def _has_control(value: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in value)


def calling_code_regions(prefix: str) -> tuple[str, ...] | None:
    """The regions (ISO codes, or "001") of the country calling code `prefix` starts with;
    None when it starts with none (calling codes are prefix-free: the first match is it)."""
    for length in range(1, min(len(prefix), 3) + 1):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(prefix[:length]))
        if regions:
            return tuple(regions)
    return None


def _price(checked: _Checked, name: str, value: str) -> None:
    if _PRICE.fullmatch(value):
        checked.values[name] = Decimal(value)
    elif _NUMBER.fullmatch(value) and value.startswith("-"):
        checked.refuse(
            name,
            _("%(column)s %(value)s cannot be negative.")
            % {"column": name, "value": _shown(value)},
        )
    elif _NUMBER.fullmatch(value) and "." in value and len(value.split(".")[1]) > 4:
        checked.refuse(
            name,
            _("%(column)s %(value)s has more than 4 decimal places.")
            % {"column": name, "value": _shown(value)},
        )
    else:
        checked.refuse(
            name,
            _("%(column)s %(value)s is not a price: write it like 0.0125.")
            % {"column": name, "value": _shown(value)},
        )


def rate_row_check(values: dict[str, str]) -> tuple[RateRow | None, list[tuple[str, str]]]:
    """One rate as text (the file's columns) checked: the row, or None and what is wrong with
    it, as (column, message) in the order of the columns. Django admin's form asks it too."""
    checked = _Checked()
    text = {name: (values.get(name) or "").strip() for name in COLUMNS}

    prefix = text["prefix"]
    regions = None
    if not _PREFIX.fullmatch(prefix):
        checked.refuse(
            "prefix",
            _('prefix %(value)s: write 1 to 15 digits, without "+" or spaces.')
            % {"value": _shown(prefix)},
        )
    else:
        regions = calling_code_regions(prefix)
        if regions is None:
            checked.refuse(
                "prefix",
                _("prefix %(value)s does not start with a country calling code.")
                % {"value": _shown(prefix)},
            )
        checked.values["prefix"] = prefix

    country = text["country"].upper()
    if country and (len(country) != 2 or country not in countries):
        checked.refuse(
            "country",
            _("country %(value)s is not an ISO 3166 country code (like FR or GB).")
            % {"value": _shown(text["country"])},
        )
    elif regions is not None and NON_GEOGRAPHIC in regions:
        if country:
            checked.refuse(
                "country",
                _("prefix %(prefix)s belongs to no country: leave the country empty.")
                % {"prefix": prefix},
            )
    elif not country:
        checked.refuse("country", _("country is missing (an ISO 3166 code, like FR or GB)."))
    elif regions is not None and country not in regions:
        checked.refuse(
            "country",
            _("country %(country)s does not use the calling code of prefix %(prefix)s.")
            % {"country": country, "prefix": prefix},
        )
    checked.values["country"] = country

    description = text["description"]
    if not description:
        checked.refuse("description", _("description is missing."))
    elif len(description) > DESCRIPTION_LENGTH:
        checked.refuse(
            "description",
            _("description is longer than %(count)d characters.") % {"count": DESCRIPTION_LENGTH},
        )
    elif _has_control(description):
        checked.refuse("description", _("description contains invisible control characters."))
    checked.values["description"] = description

    for name, choices in (("line_type", LINE_TYPES), ("increment", INCREMENTS)):
        value = text[name].lower()
        if value not in choices:
            checked.refuse(
                name,
                _("%(column)s %(value)s: write one of %(choices)s.")
                % {"column": name, "value": _shown(text[name]), "choices": ", ".join(choices)},
            )
        checked.values[name] = value

    currency = text["currency"].upper()
    if currency not in settings.CURRENCIES:
        checked.refuse(
            "currency",
            _("currency %(value)s is not one of %(choices)s.")
            % {"value": _shown(text["currency"]), "choices": ", ".join(settings.CURRENCIES)},
        )
    checked.values["currency"] = currency

    _price(checked, "per_minute", text["per_minute"])
    _price(checked, "per_sms", text["per_sms"])

    blocked = text["blocked"].lower()
    if blocked not in ("true", "false"):
        checked.refuse(
            "blocked",
            _("blocked %(value)s: write true or false.") % {"value": _shown(text["blocked"])},
        )
    checked.values["blocked"] = blocked == "true"

    if checked.problems:
        return None, checked.problems
    return RateRow(**checked.values), []


def _decoded(data: bytes) -> tuple[str | None, LineError | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, LineError(line, _("the file is not UTF-8 text."))


def _header_errors(header: list[str]) -> list[str]:
    names = [name.strip().lower() for name in header]
    problems = []
    missing = [name for name in COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if missing:
        problems.append(_("missing columns: %(names)s.") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(
            _("unknown columns: %(names)s (the columns are %(columns)s).")
            % {"names": ", ".join(_shown(name) for name in unknown), "columns": ",".join(COLUMNS)}
        )
    if repeated:
        problems.append(_("repeated columns: %(names)s.") % {"names": ", ".join(repeated)})
    return problems


def rate_table_parse(text: str) -> RateTable:
    """The rates of a CSV text (a header line naming the columns, in any order, then one rate
    a line), and the problems of every bad line."""
    rows: list[RateRow] = []
    errors: list[LineError] = []
    seen: dict[tuple[str, str], int] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    try:
        for record in reader:
            line = reader.line_num
            if not any(value.strip() for value in record):
                continue
            if header is None:
                problems = _header_errors(record)
                if problems:
                    return RateTable((), tuple(LineError(line, problem) for problem in problems))
                header = [name.strip().lower() for name in record]
                continue
            if len(record) != len(header):
                errors.append(
                    LineError(
                        line,
                        _("%(found)d values, where the header has %(expected)d.")
                        % {"found": len(record), "expected": len(header)},
                    )
                )
                continue
            row, problems = rate_row_check(dict(zip(header, record, strict=True)))
            errors.extend(LineError(line, message) for _column, message in problems)
            if row is None:
                continue
            first = seen.setdefault((row.currency, row.prefix), line)
            if first != line:
                errors.append(
                    LineError(
                        line,
                        _("prefix %(prefix)s in %(currency)s is already on line %(first)d.")
                        % {"prefix": row.prefix, "currency": row.currency, "first": first},
                    )
                )
                continue
            rows.append(row)
    except csv.Error as error:
        errors.append(LineError(reader.line_num or 1, _("not CSV: %(error)s.") % {"error": error}))
    if header is None and not errors:
        errors.append(LineError(None, _("The file is empty: it has no header and no rates.")))
    elif not rows and not errors:
        errors.append(LineError(None, _("The file has a header but no rates.")))
    return RateTable(tuple(rows), tuple(errors))


def rate_table_read(path: str | Path) -> RateTable:
    """The rates of the CSV file at `path` (UTF-8; see `rate_table_parse`)."""
    text, error = _decoded(Path(path).read_bytes())
    if error is not None:
        return RateTable((), (error,))
    return rate_table_parse(text)


@functools.cache
def sample_rate_table() -> RateTable:
    """The sample rate table that ships with the project (usage/fixtures/rates.csv), read
    once per process."""
    return rate_table_read(SAMPLE)


def rates_load(
    *, model, rows, currency: str | None = None, replace: bool = False
) -> dict[str, LoadCounts]:
    """Write `rows` (checked RateRows) into the rate table `model`, in one transaction, and
    count what changed, by currency.

    Only the rows of `currency` when one is given. A rate is created when its (currency,
    prefix) is new, updated when any value differs, left alone when none does. With
    `replace`, the rates of the loaded currencies that `rows` do not list are deleted (other
    currencies are never touched).

    Locks the loaded currencies' existing rates (select_for_update) so two loads run one
    after the other; the insert upserts on (currency, prefix), so a rate platform staff add
    meanwhile is updated, not duplicated.
    """
    if currency is not None:
        rows = [row for row in rows if row.currency == currency]
    currencies = sorted({row.currency for row in rows})
    counts = {code: LoadCounts() for code in currencies}
    with transaction.atomic():
        existing = {
            (rate.currency, rate.prefix): rate
            for rate in model.objects.select_for_update()
            .filter(currency__in=currencies)
            .order_by("pk")
        }
        writes = []
        for row in rows:
            rate = existing.pop((row.currency, row.prefix), None)
            if rate is None:
                counts[row.currency].created += 1
            elif row.differs_from(rate):
                counts[row.currency].updated += 1
            else:
                counts[row.currency].unchanged += 1
                continue
            writes.append(model(**{name: getattr(row, name) for name in COLUMNS}))
        model.objects.bulk_create(
            writes,
            batch_size=_BATCH,
            update_conflicts=True,
            unique_fields=["currency", "prefix"],
            update_fields=_UPDATED_FIELDS,
        )
        if replace and existing:
            for rate in existing.values():
                counts[rate.currency].removed += 1
            pks = [rate.pk for rate in existing.values()]
            for start in range(0, len(pks), _BATCH):
                model.objects.filter(pk__in=pks[start : start + _BATCH]).delete()
    return counts
