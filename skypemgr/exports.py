"""Every table the product hands out as a file (CSV or XLSX) goes through here (and `download`
hands out PDFs too).

One rule for all of them: no cell, header included, is ever run by a spreadsheet as a formula.
CSV is UTF-8 with a BOM (so that Excel reads accents) and ";"-separated in French (Excel in
most of Europe expects it); XLSX is written by tablib (openpyxl). The response is a download,
never cached by a browser or a proxy.
"""

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

import tablib
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.http import content_disposition_header

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# What a spreadsheet reads as the start of a formula. A tab or carriage return first is
# trimmed by some programs, leaving the next character to decide.
_FORMULA_START = ("=", "@", "+", "-", "\t", "\r")
# A phone number or a negative amount keeps its sign: only digits, spaces, these characters
# and currency symbols ("-12,50 €", "-$1,000") follow it.
_NUMBER_PUNCTUATION = frozenset("().,+-")


def _number_like(value: str) -> bool:
    return value[:1] in ("+", "-") and all(
        char.isdigit()
        or char.isspace()
        or char in _NUMBER_PUNCTUATION
        or unicodedata.category(char) == "Sc"
        for char in value[1:]
    )


def spreadsheet_safe(value):
    """`value` as a cell a spreadsheet shows as text, not as a formula it would run.

    Numbers, dates and empty values pass unchanged; text starting like a formula gets a
    leading apostrophe, except "+33 6 12 34 56 78", "-12.50" or "-12,50 €", which hold
    nothing to run.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        if isinstance(value, bool | int | float | Decimal) or hasattr(value, "isoformat"):
            return value
        value = str(value)
    value = value.replace("\x00", "")
    if value.startswith(_FORMULA_START) and not _number_like(value):
        return "'" + value
    return value


def table(headers: Sequence, rows: Iterable[Sequence], *, title: str = "") -> tablib.Dataset:
    """A dataset whose every header and cell is spreadsheet-safe."""
    dataset = tablib.Dataset(headers=[spreadsheet_safe(str(header)) for header in headers])
    if title:
        # XLSX sheet titles: at most 31 characters, none of []:*?/\
        dataset.title = re.sub(r"[\[\]:*?/\\]", " ", str(title))[:31] or "Sheet1"
    for row in rows:
        dataset.append([spreadsheet_safe(value) for value in row])
    return dataset


def csv_delimiter() -> str:
    """Excel in French (and most of Europe) opens ";"-separated files; elsewhere ","."""
    return ";" if translation.get_language() == "fr" else ","


def csv_text(dataset: tablib.Dataset) -> str:
    # The BOM tells Excel the file is UTF-8; without it, accents come out garbled.
    return "\ufeff" + dataset.export("csv", delimiter=csv_delimiter())


def csv_chunk(rows: Iterable[Sequence], *, headers: Sequence | None = None) -> str:
    """`rows` as CSV text, ";"- or ","-separated as `csv_delimiter` says, every cell
    spreadsheet-safe. With `headers`, the start of a file: the BOM, then the headers. A file
    too long to hold in memory is its first chunk (with headers) followed by the others."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=csv_delimiter())
    if headers is not None:
        buffer.write("\ufeff")
        writer.writerow([spreadsheet_safe(str(header)) for header in headers])
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return buffer.getvalue()


def export_bytes(dataset: tablib.Dataset, file_format: str) -> bytes:
    if file_format == "csv":
        return csv_text(dataset).encode("utf-8")
    if file_format == "xlsx":
        return dataset.export("xlsx")
    raise ValueError(f"unknown export format {file_format!r}")


def download(content: bytes | str, *, file_name: str, file_format: str) -> HttpResponse:
    """A response that downloads `content` as `file_name`, never kept in a cache."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    response = HttpResponse(content, content_type=FORMATS[file_format])
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    response["Cache-Control"] = "private, no-store"
    return response


def dataset_download(dataset: tablib.Dataset, *, stem: str, file_format: str) -> HttpResponse:
    """Download `dataset` as `<stem>.<file_format>` (csv or xlsx)."""
    return download(
        export_bytes(dataset, file_format),
        file_name=f"{stem}.{file_format}",
        file_format=file_format,
    )


class _Line:
    """A file-like target for csv.writer that hands back each line it is given."""

    def write(self, line: str) -> str:
        return line


def _csv_lines(headers: Sequence, rows: Iterable[Sequence], delimiter: str) -> Iterator[str]:
    writer = csv.writer(_Line(), delimiter=delimiter)
    yield "\ufeff" + writer.writerow([spreadsheet_safe(str(header)) for header in headers])
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])


def _xlsx_file(headers: Sequence, rows: Iterable[Sequence], title: str):
    """The rows written to a temporary file, one at a time (openpyxl's write-only mode keeps
    no row in memory once written)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", str(title))[:31] or "Sheet1")
    sheet.append([spreadsheet_safe(str(header)) for header in headers])
    for row in rows:
        sheet.append([spreadsheet_safe(value) for value in row])
    # Spilled to disk past a few megabytes: a long history never sits whole in memory.
    file = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    workbook.save(file)
    file.seek(0)
    return file


def rows_download(
    headers: Sequence,
    rows: Iterable[Sequence],
    *,
    stem: str,
    file_format: str,
    title: str = "",
) -> HttpResponse | StreamingHttpResponse | FileResponse:
    """Download `rows` (an iterable, read once) as `<stem>.<file_format>` in bounded memory.

    CSV streams: each row is sent as it is read. XLSX (a zip, written whole before it is
    sent) goes through a temporary file. Cells are spreadsheet-safe, as in `table`.
    """
    file_name = f"{stem}.{file_format}"
    # Translated now, in the request's language: the rows may be read after the view returns.
    headers = [str(header) for header in headers]
    if file_format == "csv":
        response = StreamingHttpResponse(
            _csv_lines(headers, rows, csv_delimiter()), content_type=FORMATS["csv"]
        )
        response["Content-Disposition"] = content_disposition_header(True, file_name)
    elif file_format == "xlsx":
        response = FileResponse(
            _xlsx_file(headers, rows, title),
            as_attachment=True,
            filename=file_name,
            content_type=FORMATS["xlsx"],
        )
    else:
        raise ValueError(f"unknown export format {file_format!r}")
    response["Cache-Control"] = "private, no-store"
    return response
