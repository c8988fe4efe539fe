"""Reading an uploaded file into rows: its size and row limits, telling a table from anything
else, and the errors about the whole file (field "file").

CSV with Python's csv module and XLSX with openpyxl (the first sheet, in its read-only
streaming mode), both stopping at the row limit and keeping each row's line number as in the
file; tablib's loaders read a whole file before any limit applies, drop blank CSV lines (the
numbers then drift) and read the active sheet rather than the first.

A small file must not cost much to read: an .xlsx is checked part by part before openpyxl opens
it (members.services.imports.archive), and both kinds stop at the first line past the line
limit, a row of too many cells, or a cell of too many characters.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import openpyxl
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from members.services.imports.archive import (
    MAX_CELL_LENGTH,
    MAX_CELLS_PER_ROW,
    cell_too_long,
    too_many_cells,
    too_many_lines,
    xlsx_check,
)
from members.services.imports.archive import MAX_SHEET_ROWS as MAX_LINES
from skypemgr.errors import ApplicationError

MAX_FILE_SIZE = 5 * 1024 * 1024
MAX_ROWS = 5000
# Wider sheets are read up to this column; nobody fills 50 columns to invite a colleague.
MAX_COLUMNS = 50
EXTENSIONS = (".csv", ".txt", ".xlsx")

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
    """The first non-blank row is the header; stops as soon as the row limit is passed, at the
    first line past the line limit, and at a row or a cell too large to be a person's."""
    header, rows = None, []
    for line, raw in records:
        if line > MAX_LINES:
            raise too_many_lines()
        if len(raw) > MAX_CELLS_PER_ROW:
            raise too_many_cells(line)
        # An empty row of a sheet is all None: skipped before any work.
        if not raw or raw.count(None) == len(raw):
            continue
        cells = [_cell_text(value) for value in raw]
        if not any(cells):
            continue
        if any(len(cell) > MAX_CELL_LENGTH for cell in cells):
            raise cell_too_long(line)
        # A sheet's rows come padded to MAX_COLUMNS: the empty cells after the last value
        # are no column of the file.
        while not cells[-1]:
            cells.pop()
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


_TEXT = re.compile(r"\S[^\r\n]*")


def _delimiter(text: str) -> str:
    """The separator the header line uses most: ";" (French Excel), "," or a tab."""
    # The first line with text, found without splitting the file (millions of blank lines
    # would make millions of strings).
    found = _TEXT.search(text)
    first_line = ""
    if found is not None:
        start = max(text.rfind("\n", 0, found.start()), text.rfind("\r", 0, found.start())) + 1
        first_line = text[start : found.end()]
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
    except csv.Error as error:
        # The csv module's own limit on a cell (128 KB) is far past ours.
        if "field limit" in str(error):
            raise cell_too_long(reader.line_num) from None
        raise _file_error(
            _("This file could not be read as CSV. Save it again as CSV and upload it again."),
            "unreadable_csv",
        ) from None


def _read_xlsx(data: bytes) -> Table:
    xlsx_check(data)
    # An uploaded workbook may be broken in any of openpyxl's many ways (zip, XML, styles);
    # each is the same answer to the person who sent it.
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except Exception:
        raise _bad_xlsx() from None
    try:
        if not workbook.worksheets:
            raise _file_error(_("The file is empty."), "empty")
        sheet = workbook.worksheets[0]
        # The sheet's own idea of its size may be wrong (rows past it would be dropped): the
        # rows end where the sheet's data ends.
        sheet.reset_dimensions()
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
