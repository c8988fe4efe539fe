"""Reads of past imports and the files handed back: the latest imports, a checked file's header,
the invalid rows with their reasons, and the template to fill in, in the user's language.

The files are written by `skypemgr.exports` (CSV in UTF-8 with a BOM, ";"-separated in French,
no cell or header a spreadsheet would run as a formula).
"""

from django.utils.translation import gettext as _

from members.models import MemberImport
from members.services.imports.columns import COLUMNS, EXAMPLE_EMAIL, EXAMPLE_PHONE
from organizations.models import Organization
from organizations.roles import Role
from skypemgr.exports import csv_text, table


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


def member_import_errors_csv(*, member_import: MemberImport) -> str:
    """The invalid rows as the file had them, plus a "reasons" column; UTF-8 with a BOM."""
    header = member_import_header(member_import)
    rows = (
        [*(value for _title, value in row["source"]), " ".join(row["errors"])]
        for row in member_import.rows
        if row["errors"]
    )
    return csv_text(table([*header, _("reasons")], rows))


def member_import_template_csv() -> str:
    """A file to fill in: the header row and two examples, in the user's language."""
    rows = [
        [
            EXAMPLE_EMAIL,
            "",
            "",
            "Jeanne Martin",
            str(Role.MEMBER.label).lower(),
            _("Sales") + "|" + _("Support"),
            _("Sales"),
            _("Account manager"),
        ],
        [
            "",
            EXAMPLE_PHONE,
            "",
            "Karim Benali",
            str(Role.FINANCE.label).lower(),
            "",
            _("Finance"),
            _("Accountant"),
        ],
    ]
    return csv_text(table([column.label for column in COLUMNS], rows))
