"""skypemgr.exports: every table handed out as a file. No cell or header runs as a formula;
numbers, dates, phone numbers and negative amounts keep their value; CSV is UTF-8 with a BOM,
";"-separated in French; XLSX opens in openpyxl with the same text; a download is never
cached."""

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.utils import translation

from skypemgr.exports import (
    csv_delimiter,
    csv_text,
    dataset_download,
    download,
    export_bytes,
    spreadsheet_safe,
    table,
)

FORMULAS = [
    "=1+1",
    '=HYPERLINK("http://evil.example","x")',
    "@SUM(1)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "-@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "=",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_text_that_starts_like_a_formula_gets_an_apostrophe(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "+33 6 12 34 56 78",
        "+1 (555) 010-0000",
        "-12.50",
        "-1,234.50",
        "-1\u202f234,50",  # French, with babel's narrow no-break space
        "-12,50\xa0€",
        "-€12.50",
        "-$1,000",
        "+",
        "-",
        "Ana",
        "a=b",
        " =1+1",
        "",
    ],
)
def test_numbers_phone_numbers_amounts_and_plain_text_are_kept(value):
    assert spreadsheet_safe(value) == value


@pytest.mark.parametrize(
    "value",
    [0, -12, 3.5, Decimal("-12.5000"), True, date(2026, 1, 2), datetime(2026, 1, 2, 3, 4)],
)
def test_numbers_dates_and_booleans_pass_unchanged(value):
    assert spreadsheet_safe(value) == value


def test_empty_values_and_nul_bytes():
    assert spreadsheet_safe(None) == ""
    assert spreadsheet_safe("a\x00b") == "ab"
    assert spreadsheet_safe("\x00=1+1") == "'=1+1"


def test_headers_and_cells_are_neutralized_in_the_table():
    dataset = table(["email", "=cmd|x", 42], [["=1+1", -3, "+33 6 12"]])
    assert dataset.headers == ["email", "'=cmd|x", "42"]
    assert dataset[0] == ("'=1+1", -3, "+33 6 12")


@pytest.mark.parametrize(("language", "delimiter"), [("en", ","), ("fr", ";"), ("de", ",")])
def test_csv_is_separated_as_excel_expects_in_the_language(language, delimiter):
    with translation.override(language):
        assert csv_delimiter() == delimiter
        text = csv_text(table(["a", "b"], [["1,5", "x;y"]]))
    assert text.startswith("\ufeff")
    lines = text[1:].splitlines()
    assert lines[0] == f"a{delimiter}b"
    # The value holding the delimiter is quoted, the other left alone.
    if delimiter == ",":
        assert lines[1] == '"1,5",x;y'
    else:
        assert lines[1] == '1,5;"x;y"'


def test_xlsx_holds_the_same_text_and_no_formula():
    dataset = table(
        ["name", '=HYPERLINK("http://evil.example","x")'],
        [["Ana", "=1+1"], ["Bo", -12.5], ["Émile", "+33 6 12"]],
        title="People: [2026]/all*?",
    )
    workbook = openpyxl.load_workbook(io.BytesIO(export_bytes(dataset, "xlsx")))
    sheet = workbook.active
    assert sheet.title == "People   2026  all  "[:31]
    cells = [[cell for cell in row] for row in sheet.iter_rows()]
    assert all(cell.data_type != "f" for row in cells for cell in row)
    values = [[cell.value for cell in row] for row in cells]
    assert values == [
        ["name", '\'=HYPERLINK("http://evil.example","x")'],
        ["Ana", "'=1+1"],
        ["Bo", -12.5],
        ["Émile", "+33 6 12"],
    ]


def test_a_long_title_is_cut_to_what_excel_accepts():
    assert table(["a"], [], title="x" * 40).title == "x" * 31
    assert table(["a"], [], title="[]").title == "  "


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown export format"):
        export_bytes(table(["a"], []), "pdf")


def test_a_download_is_never_cached_and_keeps_its_file_name():
    response = download("a,b\n", file_name="relevé-2026.csv", file_format="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''relev%C3%A9-2026.csv" in disposition
    assert response.content == b"a,b\n"


def test_dataset_download_names_the_file_after_its_format():
    response = dataset_download(table(["a"], [["=1"]]), stem="members", file_format="xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="members.xlsx"' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.active["A2"].value == "'=1"
    with translation.override("fr"):
        csv_response = dataset_download(table(["a", "b"], [[1, 2]]), stem="m", file_format="csv")
    assert csv_response.content.decode("utf-8") == "\ufeffa;b\r\n1;2\r\n"
