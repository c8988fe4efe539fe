"""The renewal calendar as a CSV or XLSX file: every renewal of the chosen window in due
order, with the page's words, in the reader's language; no cell a spreadsheet would run."""

import csv
import datetime
import io

import pytest
import time_machine
from openpyxl import load_workbook

from organizations.scoping import tenant_scope
from subscriptions.selectors.calendar import calendar_rows
from tests.factories import MemberFactory
from tests.subscriptions.calendar_support import catalog, due, local  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

WEDNESDAY = (2025, 3, 5, 10, 0)
D = datetime.date
HEADERS = [
    "Week of",
    "Due on",
    "Member",
    "Feature",
    "Period (months)",
    "Amount",
    "Currency",
    "Renews automatically",
    "Outcome",
]


def body(response) -> bytes:
    if hasattr(response, "content_read"):
        return response.content_read
    if response.streaming:
        return b"".join(response.streaming_content)
    return b"".join(response)


def csv_rows(response, delimiter=",") -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


@pytest.fixture
def renewals(org):
    """Three renewals, one of them ending, by members with awkward names."""
    formula = MemberFactory(organization=org, display_name='=HYPERLINK("http://x")')
    chloe = MemberFactory(organization=org, display_name="Chloé Dubois")
    plus = MemberFactory(organization=org, display_name="+cmd|' /C calc'!A0")
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(org, chloe, D(2025, 3, 10), months=1, next_months=12)
        due(org, formula, D(2025, 3, 9))
        due(org, plus, D(2025, 3, 20), auto_renew=False)
    return formula, chloe, plus


def export(client, org, **query):
    """The response, read at once (a streamed CSV is read after the view returns)."""
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        response = client.get(f"/o/{org.slug}/features/calendar/export/", query)
        response.content_read = body(response)
    return response


def test_the_csv_lists_every_renewal_in_due_order_and_runs_no_formula(
    org, finance, renewals, login
):
    response = export(login(finance), org, format="csv", days=30)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    assert 'filename="renewals-acme-sarl-2025-03-05-30d.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == HEADERS
    assert rows[1:] == [
        ["03/03/2025", "03/09/2025", "'=HYPERLINK(\"http://x\")", "France landlines unlimited",
         "1", "2.99", "EUR", "Yes", "Renews"],
        ["03/10/2025", "03/10/2025", "Chloé Dubois", "France landlines unlimited",
         "12", "29.99", "EUR", "Yes", "Renews"],
        ["03/17/2025", "03/20/2025", "'+cmd|' /C calc'!A0", "France landlines unlimited",
         "1", "2.99", "EUR", "No", "Ends"],
    ]  # fmt: skip


def test_the_xlsx_holds_numbers_and_dates(org, owner, renewals, login):
    response = export(login(owner), org, format="xlsx", days=60)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body(response)), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADERS
    assert rows[1][0].date() == D(2025, 3, 3)
    assert rows[1][2] == '\'=HYPERLINK("http://x")'
    assert rows[2][4:7] == [12, 29.99, "EUR"]
    assert rows[3][7:] == ["No", "Ends"]
    assert len(rows) == 4


def test_in_french_the_csv_uses_semicolons_and_french_words(org, owner, renewals, login):
    client = login(owner)
    client.cookies["django_language"] = "fr"
    response = export(client, org, format="csv")
    rows = csv_rows(response, delimiter=";")
    assert rows[2][1] == "10/03/2025"
    assert rows[2][3] == "Fixes France illimités"
    assert rows[2][5] == "29,99"


def test_a_missing_or_odd_format_goes_back_to_the_calendar_with_a_message(org, owner, login):
    client = login(owner)
    response = client.get(f"/o/{org.slug}/features/calendar/export/?format=pdf&days=60")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/features/calendar/?days=60"
    page = client.get(response["Location"])
    assert "Choose CSV or XLSX." in page.content.decode()


def test_rows_are_read_in_batches_by_keyset(org):
    members = MemberFactory.create_batch(7, organization=org)
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        for index, member in enumerate(members):
            due(org, member, D(2025, 3, 10) + datetime.timedelta(days=index // 2))
        with tenant_scope(org):
            batches = list(calendar_rows(organization=org, days=30, batch=3))
    assert [len(batch) for batch in batches] == [3, 3, 1]
    ids = [row.subscription_id for batch in batches for row in batch]
    assert len(set(ids)) == 7
    assert [row.due_on for batch in batches for row in batch] == sorted(
        row.due_on for batch in batches for row in batch
    )
