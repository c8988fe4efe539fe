"""Upload bombs: small files that unpack or parse into something huge are refused, with a clear
message, before they cost the server much memory; nothing is written.

Time is not asserted (bench/bench_import.py prints it for each of these files); memory is, with
tracemalloc's peak, which counts what Python allocates (the bytes unpacked, the rows read).
"""

import io
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from members.models import MemberImport
from members.services.imports import read_table
from skypemgr.errors import ApplicationError
from tests.members import upload_bombs as bombs
from tests.tenancy import snapshot

MEGABYTE = 1 << 20
TOO_BIG = "unpacks to far more than a list of people needs"
TOO_MANY_LINES = "goes on for more than 100,000 lines"
TOO_MANY_CELLS = "more than 1,000 cells"
CELL_TOO_LONG = "more than 1,000 characters"
UNREADABLE = "This Excel file could not be read."

# (name, builder, file name, code, words of the message)
BOMBS = [
    ("huge cell", lambda: bombs.huge_cell_xlsx(100), "x.xlsx", "xlsx_too_big", TOO_BIG),
    ("long cell", lambda: bombs.huge_cell_xlsx(0.5), "x.xlsx", "cell_too_long", CELL_TOO_LONG),
    ("2M cells in a row", bombs.wide_row_xlsx, "x.xlsx", "xlsx_ratio", TOO_BIG),
    ("200k cells in a row", lambda: bombs.wide_row_xlsx(200_000), "x.xlsx", "too_many_cells",
     TOO_MANY_CELLS),
    ("2M empty rows", bombs.many_rows_xlsx, "x.xlsx", "xlsx_ratio", TOO_BIG),
    ("150k empty rows", lambda: bombs.many_rows_xlsx(150_000), "x.xlsx", "too_many_lines",
     TOO_MANY_LINES),
    ("a person on row 1,048,576", bombs.far_row_xlsx, "x.xlsx", "too_many_lines",
     TOO_MANY_LINES),
    ("1M shared strings", bombs.shared_strings_xlsx, "x.xlsx", "xlsx_too_big", TOO_BIG),
    ("250k numbered shared strings", lambda: bombs.shared_strings_xlsx(250_000, numbered=True),
     "x.xlsx", "xlsx_shared_strings", TOO_BIG),
    ("600k numbered cells", bombs.many_cells_xlsx, "x.xlsx", "xlsx_elements", TOO_BIG),
    ("20k parts", bombs.many_parts_xlsx, "x.xlsx", "xlsx_parts", "holds 20,005 parts"),
    ("sizes that lie", bombs.lying_sizes_xlsx, "x.xlsx", "unreadable_xlsx", UNREADABLE),
    ("entity expansion", bombs.entity_xlsx, "x.xlsx", "unreadable_xlsx", UNREADABLE),
    ("CSV line of 2M cells", bombs.wide_csv, "x.csv", "too_many_cells", TOO_MANY_CELLS),
    ("CSV cell of 4 MB", bombs.huge_field_csv, "x.csv", "cell_too_long", CELL_TOO_LONG),
    ("CSV of 4M blank lines", bombs.blank_lines_csv, "x.csv", "too_many_lines", TOO_MANY_LINES),
]  # fmt: skip
IDS = [bomb[0] for bomb in BOMBS]


@pytest.mark.parametrize(("name", "build", "file_name", "code", "words"), BOMBS, ids=IDS)
def test_each_bomb_is_refused_with_a_clear_message_and_nothing_is_written(
    org, admin, login, name, build, file_name, code, words
):
    content = build()
    assert len(content) < 5 * MEGABYTE, "an upload the size limit lets through"
    before = snapshot(org)
    response = login(admin).post(
        f"/o/{org.slug}/members/import/", {"file": SimpleUploadedFile(file_name, content)}
    )
    assert response.status_code == 200
    assert words in response.content.decode()
    assert snapshot(org) == before
    assert not MemberImport.objects.for_org(org).exists()


@pytest.mark.parametrize(("name", "build", "file_name", "code", "words"), BOMBS, ids=IDS)
def test_each_bomb_is_refused_within_100_mb(name, build, file_name, code, words):
    uploaded = SimpleUploadedFile(file_name, build())
    tracemalloc.start()
    try:
        with pytest.raises(ApplicationError) as refused:
            read_table(uploaded)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.code == code
    assert refused.value.field == "file"
    assert peak < 100 * MEGABYTE


def test_a_sheet_whose_size_is_understated_is_read_to_its_end():
    """The sheet's own size (its "dimension") no longer cuts rows off: a file whose
    dimension says A1:A1 still gives every person."""
    content = bombs.plain_xlsx(rows=3)
    rows = read_table(SimpleUploadedFile("x.xlsx", _with_dimension(content, "A1:A1"))).rows
    assert [cells for _line, cells in rows] == [
        ["p2@example.com"],
        ["p3@example.com"],
        ["p4@example.com"],
    ]


def _with_dimension(content: bytes, dimension: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            data = source.read(part)
            if part.filename == "xl/worksheets/sheet1.xml":
                dimension_tag = f'<dimension ref="{dimension}"/><sheetData>'.encode()
                data = data.replace(b"<sheetData>", dimension_tag)
            target.writestr(part, data)
    return buffer.getvalue()


def test_a_real_workbook_of_5000_people_passes_every_check():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["email", "name", "department", "job title", "lists", "role", "phone", "notes"])
    for n in range(5000):
        sheet.append(
            [f"p{n}@example.com", f"Person {n}", "Sales", "Agent", "", "member", "", "x" * 200]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(SimpleUploadedFile("people.xlsx", buffer.getvalue()))
    assert len(table.rows) == 5000
