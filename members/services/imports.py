"""Bulk import of people to invite, from a CSV or XLSX file.

Owns MemberImport. `member_import_parse` reads an uploaded file, checks every row and stores
the result for an admin to review; `member_import_run` invites the rows still valid.

Checking is set-based: one query for the organization's lists, then `invitees_check` (a
handful of queries whatever the number of rows) and one query for stale invitations. Inviting
goes through `invitations_create`, which bulk-inserts and queues the sending after commit.

Reading: CSV with Python's csv module and XLSX with openpyxl (the first sheet, read-only),
both stopping at the row limit and keeping each row's line number as in the file; tablib's
loaders read a whole file before any limit applies, drop blank CSV lines (the numbers then
drift) and read the active sheet rather than the first. The files handed back (the template
and the invalid rows) are written with tablib.

`member_import_run` locks the organization row, then the acting member (as
members.services.locks orders them), then the import row: of two runs of one import, the
second waits and then finds it imported.
"""

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import openpyxl
import tablib
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from members.models import Invitation, MemberImport, MemberList
from members.services.invitations import CheckedInvitee, Invitee, invitations_create, invitees_check
from members.services.locks import members_lock
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError, PermissionDeniedError

MAX_FILE_SIZE = 5 * 1024 * 1024
MAX_ROWS = 5000
# Wider sheets are read up to this column; nobody fills 50 columns to invite a colleague.
MAX_COLUMNS = 50
EXTENSIONS = (".csv", ".txt", ".xlsx")

# Lengths of the Member and Invitation fields the values end up in.
ADDRESS_MAX_LENGTH = Invitation._meta.get_field("address").max_length
FIELD_MAX_LENGTHS = {
    "display_name": Member._meta.get_field("display_name").max_length,
    "department": Member._meta.get_field("department").max_length,
    "job_title": Member._meta.get_field("job_title").max_length,
}

CHANNELS = ("email", "phone", "username")

# The template's examples; a row that still has one was not filled in, and is refused.
EXAMPLE_EMAIL = "jeanne.martin@example.com"
EXAMPLE_PHONE = "+33612345678"


@dataclass(frozen=True)
class Column:
    key: str
    # The template's header, in the user's language; its translations are accepted too.
    label: Promise
    aliases: tuple[str, ...]


COLUMNS = (
    Column(
        "email",
        pgettext_lazy("import column", "email"),
        ("email", "e-mail", "courriel", "mail", "email address", "adresse e-mail"),
    ),
    Column(
        "phone",
        pgettext_lazy("import column", "phone"),
        ("phone", "mobile", "téléphone", "mobile number", "phone number", "portable", "tél"),
    ),
    Column(
        "username",
        pgettext_lazy("import column", "username"),
        ("username", "user name", "nom d'utilisateur", "identifiant"),
    ),
    Column(
        "display_name",
        pgettext_lazy("import column", "display name"),
        ("display name", "name", "full name", "nom", "nom complet", "nom affiché"),
    ),
    Column("role", pgettext_lazy("import column", "role"), ("role", "rôle")),
    Column("lists", pgettext_lazy("import column", "lists"), ("lists", "list", "listes", "liste")),
    Column(
        "department",
        pgettext_lazy("import column", "department"),
        ("department", "service", "département"),
    ),
    Column(
        "job_title",
        pgettext_lazy("import column", "job title"),
        ("job title", "poste", "fonction", "intitulé du poste"),
    ),
)

ROLE_ALIASES = {
    "owner": Role.OWNER,
    "proprietaire": Role.OWNER,
    "admin": Role.ADMIN,
    "administrator": Role.ADMIN,
    "administrateur": Role.ADMIN,
    "administratrice": Role.ADMIN,
    "finance": Role.FINANCE,
    "member": Role.MEMBER,
    "membre": Role.MEMBER,
}

LIST_SEPARATOR = re.compile(r"[;|]")

# Files that are surely not a table, by their first bytes.
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls), old Word
BINARY_MAGICS = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"%PDF",
    b"\x1f\x8b",  # gzip
    b"Rar!",
    b"7z\xbc\xaf",
    b"RIFF",  # WebP, WAV, AVI
    b"\x00\x00\x00",  # MP4, HEIC and other ISO media
)


def normalized(text) -> str:
    """Lower case, no accents, spaces or punctuation: "Nom d'Utilisateur" -> "nomdutilisateur"."""
    decomposed = unicodedata.normalize("NFKD", str(text)).casefold()
    return "".join(char for char in decomposed if char.isalnum())


def _column_names() -> dict[str, str]:
    """Every accepted header (normalized) -> column key, with the labels in each language."""
    names = {}
    for column in COLUMNS:
        for alias in column.aliases:
            names[normalized(alias)] = column.key
        for language in ("en", "fr"):
            with translation.override(language):
                names.setdefault(normalized(column.label), column.key)
    return names


def _roles() -> dict[str, str]:
    roles = {normalized(name): role.value for name, role in ROLE_ALIASES.items()}
    for language in ("en", "fr"):
        with translation.override(language):
            for role in Role:
                roles.setdefault(normalized(role.label), role.value)
    return roles


def _role_needs_owner(role: str) -> bool:
    # invitations_create lets only owners invite owners and admins.
    return role in (Role.OWNER, Role.ADMIN)


# --- Reading a file into rows --------------------------------------------------------------


@dataclass
class Table:
    header: list[str]
    # (line number in the file, cells), blank rows left out.
    rows: list[tuple[int, list[str]]]


def _file_error(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, field="file")


def _too_many_rows() -> ApplicationError:
    return _file_error(
        _("The file has more than %(max)s rows. Split it into several files.")
        % {"max": number_format(MAX_ROWS, force_grouping=True)},
        "too_many_rows",
    )


def _not_a_table() -> ApplicationError:
    return _file_error(
        _("This is not a CSV or Excel file. Upload a .csv or .xlsx file."), "not_a_table"
    )


def _bad_xlsx() -> ApplicationError:
    return _file_error(
        _("This Excel file could not be read. Save it again as .xlsx or as CSV and upload it."),
        "unreadable_xlsx",
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        # Numbers typed in a spreadsheet (a phone number without its +) come back as floats.
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).replace("\ufeff", "").strip()


def _collect(records: Iterable[tuple[int, Sequence]]) -> Table:
    """The first non-blank row is the header; stops as soon as the row limit is passed."""
    header, rows = None, []
    for line, raw in records:
        cells = [_cell_text(value) for value in raw]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        if len(rows) == MAX_ROWS:
            raise _too_many_rows()
        rows.append((line, cells))
    if header is None:
        raise _file_error(_("The file is empty."), "empty")
    return Table(header=header, rows=rows)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, then Windows-1252, then Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _not_a_table() from None
    if b"\x00" in data[:8192]:
        raise _not_a_table()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _looks_binary(text: str) -> bool:
    """Control characters, which no spreadsheet writes, in more than 1% of the beginning."""
    sample = text[:8192]
    controls = sum(
        1
        for char in sample
        if (ord(char) < 32 and char not in "\t\n\r\x0c\x1a") or 0x7F <= ord(char) < 0xA0
    )
    return controls > len(sample) / 100


def _delimiter(text: str) -> str:
    """The separator the header line uses most: ";" (French Excel), "," or a tab."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # On a tie (a comma inside a quoted header), ";": commas in names are the likelier.
    counts = {delimiter: first_line.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    if _looks_binary(text):
        raise _not_a_table()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))

    def records() -> Iterator[tuple[int, list[str]]]:
        # A record may span lines (a quoted line break): it is numbered by its first line.
        previous = 0
        for cells in reader:
            yield previous + 1, cells
            previous = reader.line_num

    try:
        return _collect(records())
    except csv.Error:
        raise _file_error(
            _("This file could not be read as CSV. Save it again as CSV and upload it again."),
            "unreadable_csv",
        ) from None


def _read_xlsx(data: bytes) -> Table:
    # An uploaded workbook may be broken in any of openpyxl's many ways (zip, XML, styles);
    # each is the same answer to the person who sent it.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise _bad_xlsx() from None
    try:
        if not workbook.worksheets:
            raise _file_error(_("The file is empty."), "empty")
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        return _collect(enumerate(rows, start=1))
    except ApplicationError:
        raise
    except Exception:
        raise _bad_xlsx() from None
    finally:
        workbook.close()


def read_table(uploaded_file) -> Table:
    """The header and the non-blank rows of an uploaded CSV or XLSX file, or ApplicationError."""
    if uploaded_file.size is not None and uploaded_file.size > MAX_FILE_SIZE:
        raise _file_error(_("The file is larger than 5 MB. Split it into several files."), "size")
    uploaded_file.seek(0)
    data = uploaded_file.read(MAX_FILE_SIZE + 1)
    if len(data) > MAX_FILE_SIZE:
        raise _file_error(_("The file is larger than 5 MB. Split it into several files."), "size")
    if not data.strip():
        raise _file_error(_("The file is empty."), "empty")
    name = (uploaded_file.name or "").lower()
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise _file_error(
            _(
                "Excel 97-2003 files (.xls) cannot be read. Save the file as .xlsx or as CSV "
                "and upload it again."
            ),
            "xls",
        )
    if name.endswith(".xlsx"):
        raise _bad_xlsx()
    if data.startswith(BINARY_MAGICS):
        raise _not_a_table()
    return _read_csv(data)


# --- Checking rows -------------------------------------------------------------------------


def _map_header(header: list[str]) -> dict[str, int]:
    """Column key -> position; ApplicationError without an email, phone or username column."""
    names = _column_names()
    positions: dict[str, int] = {}
    for position, title in enumerate(header):
        key = names.get(normalized(title))
        if key is None:
            continue
        if key in positions:
            raise _file_error(
                _("Two columns say the same thing: “%(first)s” and “%(second)s”. Keep one.")
                % {"first": header[positions[key]], "second": title},
                "duplicate_column",
            )
        positions[key] = position
    if not any(channel in positions for channel in CHANNELS):
        raise _file_error(
            _(
                "The first row must name the columns, with at least one of: email, phone, "
                "username. Download the template to see the expected columns."
            ),
            "no_identifier",
        )
    return positions


def ignored_columns(header: Sequence[str]) -> list[str]:
    """Headers of the file that no column of the import uses (they are left out)."""
    names = _column_names()
    return [title for title in header if title and normalized(title) not in names]


def _clean_row(
    line: int,
    cells: list[str],
    header: list[str],
    positions: dict[str, int],
    lists_by_name: dict[str, MemberList],
    roles: dict[str, str],
    actor_role: str,
) -> tuple[dict, Invitee | None]:
    """One row's values and the reasons it is refused, before the checks against the database."""
    values = {
        key: cells[position] if position < len(cells) else "" for key, position in positions.items()
    }
    errors = []
    if any(cells[len(header) :]):
        errors.append(_("This row has more cells than the header row: is a value missing quotes?"))

    identifiers = [(channel, values[channel]) for channel in CHANNELS if values.get(channel)]
    channel, address = identifiers[0] if identifiers else ("", "")
    if not identifiers:
        errors.append(_("Give an email, a mobile number or a username."))
    elif len(identifiers) > 1:
        errors.append(_("Give only one of email, phone or username."))
    elif address.casefold() in (EXAMPLE_EMAIL, EXAMPLE_PHONE):
        errors.append(_("This is the template's example: replace it with a real person."))
    elif len(address) > ADDRESS_MAX_LENGTH:
        errors.append(
            _("The address is too long (%(max)d characters at most).") % {"max": ADDRESS_MAX_LENGTH}
        )

    raw_role = values.get("role", "")
    role = roles.get(normalized(raw_role), "") if raw_role else Role.MEMBER.value
    if not role:
        errors.append(
            _("Unknown role: %(value)s (use admin, finance or member).") % {"value": raw_role}
        )
        role = raw_role
    elif _role_needs_owner(role) and actor_role != Role.OWNER:
        errors.append(_("Only owners can invite owners and admins."))

    row_lists: dict[int, MemberList] = {}
    for name in LIST_SEPARATOR.split(values.get("lists", "")):
        name = " ".join(name.split())
        if not name:
            continue
        member_list = lists_by_name.get(name.casefold())
        if member_list is None:
            errors.append(_("Unknown list: %(name)s") % {"name": name})
        else:
            row_lists[member_list.pk] = member_list

    labels = {
        "display_name": _("The name"),
        "department": _("The department"),
        "job_title": _("The job title"),
    }
    for key, max_length in FIELD_MAX_LENGTHS.items():
        if len(values.get(key, "")) > max_length:
            errors.append(
                _("%(field)s is too long (%(max)d characters at most).")
                % {"field": labels[key], "max": max_length}
            )

    row = {
        "line": line,
        # The file's own columns and values, in its order, for the file of invalid rows.
        "source": [
            [title, cells[position] if position < len(cells) else ""]
            for position, title in enumerate(header)
        ],
        "channel": channel,
        "address": address,
        "display_name": values.get("display_name", ""),
        "role": role,
        "lists": [[member_list.pk, member_list.name] for member_list in row_lists.values()],
        "department": values.get("department", ""),
        "job_title": values.get("job_title", ""),
        "errors": errors,
    }
    if errors:
        return row, None
    return row, _invitee(row, row_lists.values())


def _invitee(row: dict, lists: Iterable[MemberList]) -> Invitee:
    return Invitee(
        channel=row["channel"],
        address=row["address"],
        display_name=row["display_name"],
        job_title=row["job_title"],
        department=row["department"],
        role=row["role"],
        lists=tuple(lists),
    )


def _check_invitees(
    organization: Organization, candidates: list[tuple[dict, Invitee]]
) -> list[tuple[dict, CheckedInvitee]]:
    """Check the rows' invitees against the database; add the reasons to the rows.

    A valid row's address becomes the canonical one (lower-case email, E.164 number, the
    account's username).
    """
    if not candidates:
        return []
    checked = invitees_check(
        organization=organization, invitees=[invitee for _row, invitee in candidates]
    )
    results = []
    for row, item in zip((row for row, _invitee in candidates), checked, strict=True):
        if item.ok:
            row["address"] = item.address
        else:
            row["errors"].extend(item.errors)
        results.append((row, item))
    return results


def _require_importer(actor: Member) -> None:
    if actor.status != Member.Status.ACTIVE or not Role(actor.role).at_least(Role.ADMIN):
        raise PermissionDeniedError(_("Only owners and admins import members."))


def member_import_parse(
    *,
    organization: Organization,
    actor: Member,
    uploaded_file,
    ip_address: str | None = None,
) -> MemberImport:
    """Read an uploaded CSV or XLSX, check every row, and store the result as a preview.

    Raises ApplicationError (field "file") for a problem with the whole file: too large, empty,
    not a table, no identifier column, no rows, too many rows. Stores nothing then. Row
    problems are kept with their rows. Locks nothing: nothing is invited yet.
    """
    _require_importer(actor)
    table = read_table(uploaded_file)
    positions = _map_header(table.header)
    if not table.rows:
        raise _file_error(_("The file has no rows under its header row."), "header_only")

    lists_by_name = {
        member_list.name.casefold(): member_list
        for member_list in MemberList.objects.for_org(organization)
    }
    roles = _roles()
    rows, candidates = [], []
    for line, cells in table.rows:
        row, invitee = _clean_row(
            line, cells, table.header, positions, lists_by_name, roles, actor.role
        )
        rows.append(row)
        if invitee is not None:
            candidates.append((row, invitee))
    _check_invitees(organization, candidates)

    valid_count = sum(1 for row in rows if not row["errors"])
    file_name = os.path.basename((uploaded_file.name or "").replace("\\", "/"))[:255]
    with transaction.atomic():
        member_import = MemberImport.objects.create(
            organization=organization,
            created_by=actor,
            file_name=file_name or "import.csv",
            rows=rows,
            valid_count=valid_count,
            invalid_count=len(rows) - valid_count,
        )
        audit_record(
            organization=organization,
            actor=actor,
            verb="import.checked",
            target=member_import,
            data={"rows": len(rows), "valid": valid_count, "invalid": len(rows) - valid_count},
            ip_address=ip_address,
        )
    return member_import


# --- Importing -----------------------------------------------------------------------------


def member_import_run(
    *,
    organization: Organization,
    actor: Member,
    member_import: MemberImport,
    ip_address: str | None = None,
) -> tuple[int, list[dict]]:
    """Invite the rows that are still valid; returns (invitations created, rows refused now).

    Locks the organization row, the actor, then the import: a second run of the same import
    (a double submit) waits, then is refused because the import is done. Rows valid at the
    preview are checked again under the lock (someone may have been invited meanwhile, a
    list deleted, the actor's role changed); those still valid are invited in one go, the
    others get their reasons and join the invalid rows. Raises ApplicationError, changing
    nothing, when the import was already run, has no valid row, or when inviting is refused
    as a whole (the daily limit).
    """
    with transaction.atomic():
        actor, _members = members_lock(organization=organization, actor=actor, member_ids=[])
        locked = (
            MemberImport.objects.for_org(organization)
            .select_for_update()
            .filter(pk=member_import.pk)
            .first()
        )
        if locked is None:
            raise ApplicationError(_("This import was not found."), code="not_found")
        if locked.status == MemberImport.Status.IMPORTED:
            raise ApplicationError(_("This file was already imported."), code="already_imported")
        rows = locked.rows
        waiting = [row for row in rows if not row["errors"]]
        if not waiting:
            raise ApplicationError(
                _("No row of this file can be imported. Correct the file and upload it again."),
                code="nothing_to_import",
            )

        refused, candidates = _recheck_locally(organization, actor, waiting)
        checked = _check_invitees(organization, candidates)
        invitees = [item.invitee for _row, item in checked if item.ok]
        for row, item in checked:
            if not item.ok:
                refused.append(row)
        for row in refused:
            row["refused_at_import"] = True

        invitations = []
        if invitees:
            invitations = invitations_create(
                organization=organization,
                actor=actor,
                invitees=invitees,
                role=Role.MEMBER,
                ip_address=ip_address,
            )
        locked.rows = rows
        locked.valid_count = len(invitations)
        locked.invalid_count = len(rows) - len(invitations)
        locked.status = MemberImport.Status.IMPORTED
        locked.imported_at = timezone.now()
        locked.save(update_fields=["rows", "valid_count", "invalid_count", "status", "imported_at"])
        audit_record(
            organization=organization,
            actor=actor,
            verb="import.done",
            target=locked,
            data={"invited": len(invitations), "refused": len(refused)},
            ip_address=ip_address,
        )
    return len(invitations), refused


def _recheck_locally(
    organization: Organization, actor: Member, rows: list[dict]
) -> tuple[list[dict], list[tuple[dict, Invitee]]]:
    """What may have changed outside the invitees' addresses: lists, the actor's role."""
    list_ids = {pk for row in rows for pk, _name in row["lists"]}
    lists = MemberList.objects.for_org(organization).in_bulk(list_ids)
    refused, candidates = [], []
    for row in rows:
        errors = [
            _("Unknown list: %(name)s") % {"name": name}
            for pk, name in row["lists"]
            if pk not in lists
        ]
        if _role_needs_owner(row["role"]) and actor.role != Role.OWNER:
            errors.append(_("Only owners can invite owners and admins."))
        if errors:
            row["errors"] = errors
            refused.append(row)
        else:
            candidates.append((row, _invitee(row, (lists[pk] for pk, _name in row["lists"]))))
    return refused, candidates


# --- Reads and files -----------------------------------------------------------------------


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
