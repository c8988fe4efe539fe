"""Checking an uploaded .xlsx before anything reads it.

An .xlsx is a zip of XML parts, and a small upload can unpack into something huge: one cell of
300 MB, a row of two million cells, two million empty rows, a table of a million shared strings,
thousands of parts, or headers that understate how much a part unpacks to. openpyxl would load
or walk all of it (gigabytes, minutes). So, before openpyxl opens the file, `xlsx_check`:

- reads the zip's directory: how many parts, how much each says it unpacks to, and how much
  more than its compressed size that is;
- unpacks each part once, a megabyte at a time, and stops as soon as a part or the whole
  passes its limit, whatever the headers said;
- measures each XML part without parsing it (byte searches, no tree): its elements, the
  longest text between two tags, and in the sheets the rows and the cells of each row; a
  document type declaration (the way to XML entity bombs) is refused outright.

Limits are far above what a list of people needs (5,000 rows of a few short columns unpack to
a few megabytes). Reads only; raises ApplicationError (field "file") with a clear message.
"""

import io
import re
import zipfile

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from skypemgr.errors import ApplicationError

MEGABYTE = 1 << 20
MAX_PARTS = 200
MAX_UNPACKED = 40 * MEGABYTE
MAX_SHEET_PART = 16 * MEGABYTE
MAX_OTHER_PART = 4 * MEGABYTE
# A part that says it unpacks to more than this many times its packed size is a bomb. Real
# sheets pack about 5 to 20 times; small parts are let be (their ratio means nothing).
MAX_RATIO = 100
RATIO_FROM = MEGABYTE
MAX_ELEMENTS = 1_000_000
# Rows in a sheet, empty ones included (the same limit applies to a CSV file's lines).
MAX_SHEET_ROWS = 100_000
MAX_CELLS_PER_ROW = 1_000
MAX_SHARED_STRINGS = 200_000
# No value to import is longer than this (an address has 254 characters at most).
MAX_CELL_LENGTH = 1_000
# The longest run of bytes between two tags: well past MAX_CELL_LENGTH characters, however
# escaped and encoded.
MAX_TEXT_BYTES = 64 * 1024

_CHUNK = MEGABYTE
# The spreadsheet namespace, which a part may also bind to prefixes ("<x:row>"); each such
# prefix is one more spelling of every tag to count.
_MAIN_NAMESPACE = rb"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_MAIN_PREFIX = re.compile(rb"xmlns:([^\s=<>/:]+)\s*=\s*[\"']" + re.escape(_MAIN_NAMESPACE))
MAX_PREFIXES = 8
# What may follow a tag's name.
_NAME_ENDS = (b" ", b">", b"/", b"\t", b"\n", b"\r")
# A run of text longer than this many bytes fills a whole window of this size, wherever the
# run starts; every window is searched for a "<" (one fast byte search each).
_TEXT_WINDOW = MAX_TEXT_BYTES // 2


def _error(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, field="file")


def _unreadable() -> ApplicationError:
    return _error(
        _("This Excel file could not be read. Save it again as .xlsx or as CSV and upload it."),
        "unreadable_xlsx",
    )


def _too_big(code: str = "xlsx_too_big") -> ApplicationError:
    """One message for every way of unpacking too much; `code` tells which limit it was."""
    return _error(
        _(
            "This Excel file unpacks to far more than a list of people needs (at most "
            "%(max)d MB). Keep only the sheet of people, or save it as CSV, and upload it again."
        )
        % {"max": MAX_UNPACKED // MEGABYTE},
        code,
    )


def _count(number: int) -> str:
    return number_format(number, force_grouping=True)


def xlsx_check(data: bytes) -> None:
    """Refuse an .xlsx that is not a plausible list of people, before openpyxl reads it."""
    if _declared_parts(data) > MAX_PARTS:
        raise _too_many_parts(_declared_parts(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _unreadable() from None
    with archive:
        if len(parts) > MAX_PARTS:
            raise _too_many_parts(len(parts))
        _check_directory(parts)
        budget = _Budget()
        for part in parts:
            if part.is_dir():
                continue
            content = _unpack(archive, part, budget)
            if part.filename.lower().endswith((".xml", ".rels")):
                _check_xml(part.filename, content, budget)


def _declared_parts(data: bytes) -> int:
    """The number of parts the zip's last record announces (0 if it has none), read before
    zipfile builds a record for each part."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end == -1 or end + 22 > len(data):
        return 0
    return int.from_bytes(data[end + 10 : end + 12], "little")


def _too_many_parts(count: int) -> ApplicationError:
    return _error(
        _(
            "This Excel file holds %(count)s parts; a sheet of people has a few dozen. Save "
            "the sheet alone as .xlsx or as CSV and upload it again."
        )
        % {"count": _count(count)},
        "xlsx_parts",
    )


class _Budget:
    """What the parts checked so far have used of the whole file's limits."""

    def __init__(self):
        self.unpacked = 0
        self.elements = 0


def _limit(name: str) -> int:
    lower = name.lower()
    if lower.startswith("xl/worksheets/") or lower.endswith("sharedstrings.xml"):
        return MAX_SHEET_PART
    return MAX_OTHER_PART


def _check_directory(parts: list[zipfile.ZipInfo]) -> None:
    """What the headers say: refused when they already say too much."""
    if sum(part.file_size for part in parts) > MAX_UNPACKED:
        raise _too_big()
    for part in parts:
        if part.file_size > _limit(part.filename):
            raise _too_big()
        if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise _too_big("xlsx_ratio")


def _unpack(archive: zipfile.ZipFile, part: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """The part's bytes, read a chunk at a time and never past its limit or the whole's."""
    limit = min(_limit(part.filename), MAX_UNPACKED - budget.unpacked)
    chunks, size = [], 0
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _too_big("xlsx_unpacked")
                chunks.append(chunk)
    except ApplicationError:
        raise
    # A part may be damaged in any of zlib's or zipfile's ways (a bad checksum when the
    # headers lie about the size, an unknown compression): one answer for all.
    except Exception:
        raise _unreadable() from None
    budget.unpacked += size
    return b"".join(chunks)


def _check_xml(name: str, content: bytes, budget: _Budget) -> None:
    """Measure one XML part with byte searches: parsing it is what could cost too much."""
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise _unreadable()
    for start in range(0, len(content) - _TEXT_WINDOW + 1, _TEXT_WINDOW):
        if content.find(b"<", start, start + _TEXT_WINDOW) == -1:
            raise cell_too_long()
    # Start tags: every "<" but those of end tags, comments, declarations and instructions.
    budget.elements += content.count(b"<") - sum(
        content.count(opening) for opening in (b"</", b"<!", b"<?")
    )
    if budget.elements > MAX_ELEMENTS:
        raise _too_big("xlsx_elements")
    lower = name.lower()
    if lower.endswith("sharedstrings.xml"):
        if _Tags(content, b"si").count() > MAX_SHARED_STRINGS:
            raise _too_big("xlsx_shared_strings")
    elif lower.startswith("xl/worksheets/"):
        _check_sheet(content)


class _Tags:
    """The start tags of one name in a part, however the spreadsheet namespace is spelled."""

    def __init__(self, content: bytes, name: bytes):
        prefixes = set()
        for match in _MAIN_PREFIX.finditer(content):
            prefixes.add(match.group(1))
            if len(prefixes) > MAX_PREFIXES:
                raise _unreadable()
        self.content = content
        self.openings = [
            b"<" + prefix + name for prefix in (b"", *(p + b":" for p in sorted(prefixes)))
        ]

    def count(self, start: int = 0, end: int | None = None) -> int:
        end = len(self.content) if end is None else end
        return sum(
            self.content.count(opening + name_end, start, end)
            for opening in self.openings
            for name_end in _NAME_ENDS
        )

    def positions(self, limit: int) -> list[int]:
        """Where each tag starts, in order; ApplicationError past `limit` tags."""
        found = []
        for opening in self.openings:
            position = self.content.find(opening)
            while position != -1:
                after = position + len(opening)
                if self.content[after : after + 1] in _NAME_ENDS:
                    found.append(position)
                    if len(found) > limit:
                        raise too_many_lines()
                position = self.content.find(opening, after)
        return sorted(found)


def _check_sheet(content: bytes) -> None:
    """At most MAX_SHEET_ROWS rows, and MAX_CELLS_PER_ROW cells in each."""
    starts = _Tags(content, b"row").positions(MAX_SHEET_ROWS)
    cells = _Tags(content, b"c")
    for start, end in zip(starts, [*starts[1:], len(content)], strict=True):
        # The shortest cell, "<c/>", takes 4 bytes: a shorter row cannot hold too many.
        if end - start > 4 * MAX_CELLS_PER_ROW and cells.count(start, end) > MAX_CELLS_PER_ROW:
            raise too_many_cells()


def cell_too_long(line: int | None = None) -> ApplicationError:
    """A cell past MAX_CELL_LENGTH characters, on `line` of the file when it is known."""
    values = {"max": _count(MAX_CELL_LENGTH), "line": line}
    if line is None:
        message = _(
            "A cell of this file holds more than %(max)s characters; no value to import is "
            "that long. Shorten it and upload the file again."
        )
    else:
        message = _(
            "Line %(line)d holds a cell of more than %(max)s characters; no value to import is "
            "that long. Shorten it and upload the file again."
        )
    return _error(message % values, "cell_too_long")


def too_many_cells(line: int | None = None) -> ApplicationError:
    """A row past MAX_CELLS_PER_ROW cells, on `line` of the file when it is known."""
    values = {"max": _count(MAX_CELLS_PER_ROW), "line": line}
    if line is None:
        message = _(
            "A row of this file has more than %(max)s cells. Delete the columns you do not "
            "need and upload the file again."
        )
    else:
        message = _(
            "Line %(line)d has more than %(max)s cells. Delete the columns you do not need and "
            "upload the file again."
        )
    return _error(message % values, "too_many_cells")


def too_many_lines() -> ApplicationError:
    return _error(
        _(
            "This file goes on for more than %(max)s lines, most of them empty. Keep only the "
            "rows of people and upload it again."
        )
        % {"max": _count(MAX_SHEET_ROWS)},
        "too_many_lines",
    )
