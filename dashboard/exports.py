"""Reports as files: CSV (one table), XLSX (every table) and PDF (every table, to print).

Each writes a `dashboard.reports.Report` as it stands, in the active language, so that a file
equals the page it comes from. Rows hold raw values; a column's kind says how each is written:

| kind     | CSV                              | XLSX                      | PDF, email          |
|----------|----------------------------------|---------------------------|---------------------|
| money    | "1234.50" / "1234,50" (currency's decimals) | a number, 0.00 format | "€1,234.50"  |
| number   | 1234                             | a number                  | "1,234"             |
| duration | "1:02:09" (always with hours)    | a time span, [h]:mm:ss    | "1:02:09", "2:05"   |
| date     | the language's short date        | a date                    | short date          |
| month    | "November 2026"                  | a date shown mmmm yyyy    | "November 2026"     |
| text     | as is                            | as is                     | cut to fit, with …  |

CSV and XLSX cells go through skypemgr.exports.spreadsheet_safe (no cell is ever run as a
formula); CSV has the BOM and ";" in French. The PDF uses the core fonts, whose alphabet is
Windows-1252: other text is folded into it as receipts do (credit.services.receipts.pdf_text).
"""

import datetime
import io
import re
import zoneinfo
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from djmoney.money import Money
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from credit.services.receipts import ISSUER, pdf_text
from dashboard.reports import (
    DATE,
    DURATION,
    MONEY,
    MONTH,
    NUMBER,
    TEXT,
    Column,
    Report,
    ReportTable,
)
from dashboard.selectors.filters import report_filters_describe
from skypemgr.amounts import currency_decimals
from skypemgr.exports import csv_chunk, spreadsheet_safe
from usage.templatetags.usage_tags import duration

NUMERIC = (MONEY, NUMBER, DURATION)


# --- Cells -----------------------------------------------------------------------------------


def _rounded(value, currency: str) -> Decimal:
    return Decimal(value).quantize(Decimal(10) ** -currency_decimals(currency))


def clock(seconds) -> str:
    """Seconds as "h:mm:ss", hours always written (a spreadsheet reads "2:05" as 2 h 05)."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _local_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _kind_of(column: Column, value) -> str:
    """The column's kind, or TEXT for a value that is not of that kind (a totals line puts
    "Total" in its first column, whatever it holds)."""
    if column.kind in NUMERIC:
        fits = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    elif column.kind in (DATE, MONTH):
        fits = isinstance(value, datetime.date)
    else:
        return column.kind
    return column.kind if fits else TEXT


def cell_csv(column: Column, value, *, currency: str):
    """`value` as a CSV cell of `column`, in the active language."""
    if value is None or value == "":
        return ""
    column = Column(column.key, column.label, _kind_of(column, value))
    if column.kind == MONEY:
        return formats.number_format(
            _rounded(value, currency), decimal_pos=currency_decimals(currency), use_l10n=True
        )
    if column.kind == NUMBER:
        return int(value)
    if column.kind == DURATION:
        return clock(value)
    if column.kind == DATE:
        return formats.date_format(_local_date(value), "SHORT_DATE_FORMAT")
    if column.kind == MONTH:
        return formats.date_format(_local_date(value), "YEAR_MONTH_FORMAT")
    return str(value)


def cell_text(column: Column, value, *, currency: str) -> str:
    """`value` as a person reads it (PDF, email), in the active language."""
    if value is None or value == "":
        return ""
    column = Column(column.key, column.label, _kind_of(column, value))
    if column.kind == MONEY:
        return str(Money(value, currency))
    if column.kind == NUMBER:
        return formats.number_format(int(value), force_grouping=True)
    if column.kind == DURATION:
        return duration(value)
    if column.kind == DATE:
        return formats.date_format(_local_date(value), "SHORT_DATE_FORMAT")
    if column.kind == MONTH:
        return formats.date_format(_local_date(value), "YEAR_MONTH_FORMAT")
    return str(value)


def _totals(table: ReportTable) -> list | None:
    """The totals line, "Total" in its first cell when that is an empty text cell."""
    if table.totals is None:
        return None
    totals = list(table.totals)
    if totals and table.columns[0].kind not in NUMERIC and totals[0] in (None, ""):
        totals[0] = _("Total")
    return totals


# --- What a report is about ----------------------------------------------------------------


def generated_at_text(report: Report) -> str:
    """When the report was made, in the organization's time zone."""
    try:
        zone = zoneinfo.ZoneInfo(report.organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    moment = timezone.localtime(report.generated_at, zone)
    return f"{formats.date_format(moment, 'DATETIME_FORMAT')} ({zone.key})"


def report_facts(report: Report) -> list[tuple[str, str]]:
    """The report's first lines: company, report, period, filters, currency, made when."""
    filters = report_filters_describe(organization=report.organization, filters=report.filters)
    filters_text = "; ".join(f"{label}: {value}" for label, value in filters)
    return [
        (_("Company"), report.organization.name),
        (_("Report"), str(report.title)),
        (_("Period"), report.period.label),
        (_("Filters"), filters_text or _("None: every member, every category")),
        (_("Currency"), report.currency),
        (_("Generated"), generated_at_text(report)),
    ]


def report_file_name(report: Report, *, file_format: str, table_key: str = "") -> str:
    """ "skypemgr-acme-2026-11.pdf", "skypemgr-acme-2026-by_member.csv"."""
    stem = f"skypemgr-{report.organization.slug}-{report.period.param}"
    if table_key:
        stem += "-" + re.sub(r"[^a-z0-9_]", "", table_key.lower())
    return f"{stem}.{file_format}"


# --- CSV -------------------------------------------------------------------------------------


def report_csv(report: Report, table_key: str) -> bytes:
    """One table of the report as CSV: the column labels, the rows, then the totals line.
    KeyError when the report has no such table."""
    table = report.tables[table_key]
    currency = report.currency

    def cells(row) -> list:
        return [
            cell_csv(column, value, currency=currency)
            for column, value in zip(table.columns, row, strict=False)
        ]

    rows = [cells(row) for row in table.rows]
    totals = _totals(table)
    if totals is not None:
        rows.append(cells(totals))
    return csv_chunk(rows, headers=[column.label for column in table.columns]).encode("utf-8")


# --- XLSX ------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F5F7FA")
_TITLE = Font(bold=True, size=14)
# Excel's built-in short date (number format 14): shown in the reader's own date format.
_SHORT_DATE = "mm-dd-yy"
_WIDTHS = {MONEY: 16, NUMBER: 12, DURATION: 12, DATE: 14, MONTH: 18}


def _sheet_title(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (at most 31 characters, none of []:*?/\\), unused so far."""
    base = re.sub(r"[\[\]:*?/\\]", " ", str(title)).strip()[:31] or "Sheet"
    name, number = base, 2
    while name.casefold() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.casefold())
    return name


def _xlsx_cell(sheet, column: Column, value, currency: str, *, bold: bool = False):
    kind = _kind_of(column, value)
    if value is None or value == "":
        cell = WriteOnlyCell(sheet, value=None)
    elif kind == MONEY:
        cell = WriteOnlyCell(sheet, value=_rounded(value, currency))
        digits = currency_decimals(currency)
        cell.number_format = "#,##0" + ("." + "0" * digits if digits else "")
    elif kind == NUMBER:
        cell = WriteOnlyCell(sheet, value=int(value))
        cell.number_format = "#,##0"
    elif kind == DURATION:
        cell = WriteOnlyCell(sheet, value=datetime.timedelta(seconds=int(value)))
        cell.number_format = "[h]:mm:ss"
    elif kind == DATE:
        cell = WriteOnlyCell(sheet, value=_local_date(value))
        cell.number_format = _SHORT_DATE
    elif kind == MONTH:
        cell = WriteOnlyCell(sheet, value=_local_date(value))
        cell.number_format = "mmmm yyyy"
    else:
        cell = WriteOnlyCell(sheet, value=spreadsheet_safe(str(value)))
    if bold:
        cell.font = _BOLD
    return cell


def report_xlsx(report: Report) -> bytes:
    """The report as an Excel workbook: a first sheet saying what it is (company, period,
    filters, when it was made), then one sheet per table, numbers as numbers."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    about = workbook.create_sheet(_sheet_title(_("Report"), taken))
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 60
    title = WriteOnlyCell(about, value=spreadsheet_safe(str(report.title)))
    title.font = _TITLE
    about.append([title])
    about.append([])
    for label, value in report_facts(report):
        label_cell = WriteOnlyCell(about, value=spreadsheet_safe(str(label)))
        label_cell.font = _BOLD
        about.append([label_cell, spreadsheet_safe(str(value))])
    about.append([])
    about.append([spreadsheet_safe(_("Each table of the report is on a sheet of its own."))])

    currency = report.currency
    for table in report.tables.values():
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        for position, column in enumerate(table.columns):
            letter = get_column_letter(position + 1)
            sheet.column_dimensions[letter].width = _WIDTHS.get(column.kind, 30)
        headers = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=spreadsheet_safe(str(column.label)))
            cell.font = _BOLD
            cell.fill = _HEADER_FILL
            if column.kind in NUMERIC:
                cell.alignment = Alignment(horizontal="right")
            headers.append(cell)
        sheet.append(headers)
        for row in table.rows:
            sheet.append(
                [
                    _xlsx_cell(sheet, column, value, currency)
                    for column, value in zip(table.columns, row, strict=False)
                ]
            )
        totals = _totals(table)
        if totals is not None:
            sheet.append(
                [
                    _xlsx_cell(sheet, column, value, currency, bold=True)
                    for column, value in zip(table.columns, totals, strict=False)
                ]
            )
        if table.note:
            sheet.append([])
            sheet.append([spreadsheet_safe(str(table.note))])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- PDF -------------------------------------------------------------------------------------

_INK = (31, 41, 51)
_MUTED = (82, 96, 109)
_BRAND = (11, 107, 203)
_RULE = (222, 226, 230)
_FILL = (245, 247, 250)
# Millimetres a column of each kind takes; text columns share what is left.
_PDF_WIDTHS = {MONEY: 30, NUMBER: 18, DURATION: 20, DATE: 22, MONTH: 30}
_TEXT_MIN = 32
_ROW = 6.0
_ELLIPSIS = "…"


class _ReportPdf(FPDF):
    """A4, the report's name atop every page after the first, "Page n of N" at the foot."""

    def __init__(self, running_title: str):
        super().__init__(format="A4")
        self.running_title = running_title
        self.page_label = _("Page %(number)s of %(count)s")

    def header(self):
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, _fit(self, self.running_title, self.epw), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*_MUTED)
        label = self.page_label % {"number": self.page_no(), "count": "{nb}"}
        self.cell(0, 6, pdf_text(label), align="C")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` in the PDF's alphabet, cut with "…" to fit `width` (less the cell's margins)."""
    text = pdf_text(" ".join(str(text).split()))
    room = width - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if pdf.get_string_width(text[:middle].rstrip() + _ELLIPSIS) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + _ELLIPSIS


def _widths(pdf: FPDF, columns: list[Column], lines: list[list[str]]) -> list[float]:
    """Each figure column as wide as its widest value and its heading's longest word (at least
    its kind's width), so that no figure is cut and no word broken; text columns share what is
    left."""
    room = 2 * pdf.c_margin
    fixed = []
    for index, column in enumerate(columns):
        width = _PDF_WIDTHS.get(column.kind)
        if width is not None:
            pdf.set_font("Helvetica", "B", 9)
            values = (pdf_text(line[index]) for line in lines if index < len(line))
            width = max(width, max(map(pdf.get_string_width, values), default=0) + room)
            pdf.set_font("Helvetica", "B", 8)
            words = pdf_text(str(column.label)).split()
            width = max(width, max(map(pdf.get_string_width, words), default=0) + room)
        fixed.append(width)
    texts = fixed.count(None)
    left = pdf.epw - sum(width for width in fixed if width)
    text_width = max(left / texts, _TEXT_MIN) if texts else 0
    widths = [width if width else text_width for width in fixed]
    # Too many columns for the page: every one narrower, in proportion.
    scale = min(1.0, pdf.epw / sum(widths)) if widths else 1.0
    return [width * scale for width in widths]


def _pdf_row(pdf: FPDF, cells: list[tuple[str, float, bool]], *, bold=False, top=False):
    """One line of the table, each text cut to its column."""
    pdf.set_font("Helvetica", "B" if bold else "", 9)
    border = "T" if top else "B"
    pdf.set_draw_color(*(_INK if top else _RULE))
    for text, width, right in cells:
        pdf.cell(width, _ROW, _fit(pdf, text, width), border=border, align="R" if right else "L")
    pdf.ln()


def _pdf_heading(pdf: FPDF, cells: list[tuple[str, float, bool]]) -> None:
    """The columns' labels, on a shaded band, each wrapped over as many lines as it needs."""
    pdf.set_font("Helvetica", "B", 8)
    line = 4.0
    texts = [pdf_text(" ".join(str(text).split())) for text, _width, _right in cells]
    lines = [
        len(pdf.multi_cell(width, line, text, dry_run=True, output="LINES"))
        for text, (_text, width, _right) in zip(texts, cells, strict=True)
    ]
    height = max([*lines, 1]) * line + 2
    if pdf.will_page_break(height + _ROW):
        pdf.add_page()
    x, y = pdf.get_x(), pdf.get_y()
    pdf.set_fill_color(*_FILL)
    pdf.rect(x, y, sum(width for _text, width, _right in cells), height, style="F")
    for text, (_text, width, right) in zip(texts, cells, strict=True):
        pdf.set_xy(x, y + 1)
        pdf.multi_cell(width, line, text, align="R" if right else "L")
        x += width
    pdf.set_xy(pdf.l_margin, y + height)


def _pdf_table(pdf: FPDF, table: ReportTable, currency: str) -> None:
    def texts(values) -> list[str]:
        return [
            cell_text(column, value, currency=currency)
            for column, value in zip(table.columns, values, strict=False)
        ]

    lines = [texts(row) for row in table.rows]
    totals = _totals(table)
    total_line = texts(totals) if totals is not None else None
    widths = _widths(pdf, table.columns, [*lines, *([total_line] if total_line else [])])
    right = [column.kind in NUMERIC for column in table.columns]
    heading = [
        (str(column.label), width, is_right)
        for column, width, is_right in zip(table.columns, widths, right, strict=True)
    ]

    def cells(line: list[str]) -> list[tuple[str, float, bool]]:
        return list(zip(line, widths, right, strict=False))

    # The title stays with the heading and a first row.
    if pdf.will_page_break(10 + 3 * _ROW):
        pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.set_text_color(*_INK)
    pdf.cell(0, 9, _fit(pdf, table.title, pdf.epw), new_x="LMARGIN", new_y="NEXT")
    _pdf_heading(pdf, heading)
    if not table.rows:
        pdf.set_font("Helvetica", "I", 9)
        pdf.set_text_color(*_MUTED)
        pdf.cell(0, _ROW, pdf_text(_("Nothing in this period.")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*_INK)
    for line in lines:
        if pdf.will_page_break(_ROW):
            pdf.add_page()
            _pdf_heading(pdf, heading)
        _pdf_row(pdf, cells(line))
    if total_line is not None:
        if pdf.will_page_break(_ROW):
            pdf.add_page()
        _pdf_row(pdf, cells(total_line), bold=True, top=True)
    if table.note:
        pdf.ln(1)
        pdf.set_font("Helvetica", "", 8)
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, 4, pdf_text(table.note), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*_INK)
    pdf.ln(6)


def report_pdf(report: Report) -> bytes:
    """The report as an A4 PDF to print: who and what it is about, then each table with its
    totals; page numbers at the foot."""
    company = report.organization.name
    pdf = _ReportPdf(f"{company} - {report.title} - {report.period.label}")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(pdf_text(f"{report.title} - {report.period.label}"))
    pdf.set_author(pdf_text(company))
    pdf.set_creator(ISSUER)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 11)
    pdf.set_text_color(*_BRAND)
    pdf.cell(0, 6, ISSUER, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 9, pdf_text(company), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 13)
    heading = f"{report.title} - {report.period.label}"
    pdf.multi_cell(0, 7, pdf_text(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 9)
    for label, value in report_facts(report)[2:]:
        pdf.set_text_color(*_MUTED)
        pdf.cell(28, 5, pdf_text(label))
        pdf.set_text_color(*_INK)
        pdf.multi_cell(0, 5, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    for table in report.tables.values():
        _pdf_table(pdf, table, report.currency)
    return bytes(pdf.output())
