"""Reads of past imports and the files handed back: the latest imports, a checked file's header,
the invalid rows with their reasons, and the template to fill in, in the user's language.

The files are written with tablib, as CSV in UTF-8 with a BOM, ";"-separated in French; a cell
that a spreadsheet would run as a formula is quoted.
"""

import re

import tablib
from django.utils import translation
from django.utils.translation import gettext as _

from members.models import MemberImport
from members.services.imports.columns import COLUMNS, EXAMPLE_EMAIL, EXAMPLE_PHONE
from organizations.models import Organization
from organizations.roles import Role


def member_imports_recent(*, organization: Organization, limit: int = 5):
    """The organization's latest imports, without their rows (they may weigh megabytes)."""
    return (
        MemberImport.objects.for_org(organization)
        .defer("rows")
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def member_import_header(member_import: MemberImport) -> list[str]:
    """The file's header row (every row keeps the same columns)."""
    rows = member_import.rows
    return [title for title, _value in rows[0]["source"]] if rows else []


def csv_delimiter() -> str:
    """Excel in French (and most of Europe) opens ";"-separated files; elsewhere ","."""
    return ";" if translation.get_language() == "fr" else ","


def _spreadsheet_safe(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula; phone numbers keep their +."""
    if value[:1] in ("=", "@") or (value[:1] in ("+", "-") and re.search(r"[^\d\s().+-]", value)):
        return "'" + value
    return value


def _csv_text(dataset: tablib.Dataset) -> str:
    # The BOM tells Excel the file is UTF-8; without it, accents come out garbled.
    return "\ufeff" + dataset.export("csv", delimiter=csv_delimiter())


def member_import_errors_csv(*, member_import: MemberImport) -> str:
    """The invalid rows as the file had them, plus a "reasons" column; UTF-8 with a BOM."""
    header = member_import_header(member_import)
    dataset = tablib.Dataset(headers=[*header, _("reasons")])
    for row in member_import.rows:
        if row["errors"]:
            values = [_spreadsheet_safe(value) for _title, value in row["source"]]
            dataset.append([*values, " ".join(row["errors"])])
    return _csv_text(dataset)


def member_import_template_csv() -> str:
    """A file to fill in: the header row and two examples, in the user's language."""
    dataset = tablib.Dataset(headers=[str(column.label) for column in COLUMNS])
    dataset.append(
        [
            EXAMPLE_EMAIL,
            "",
            "",
            "Jeanne Martin",
            str(Role.MEMBER.label).lower(),
            _("Sales") + "|" + _("Support"),
            _("Sales"),
            _("Account manager"),
        ]
    )
    dataset.append(
        [
            "",
            EXAMPLE_PHONE,
            "",
            "Karim Benali",
            str(Role.FINANCE.label).lower(),
            "",
            _("Finance"),
            _("Accountant"),
        ]
    )
    return _csv_text(dataset)
