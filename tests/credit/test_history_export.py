"""The credit history as a CSV or XLSX file: the page's filters, columns, people, kinds and
signed amounts, in the reader's language; read in batches (streamed CSV); for whoever may read
the history, and only their organization's transfers."""

import csv
import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook

from credit.services.allocation import credit_allocate, credit_take_back
from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.factories import MemberFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
HEADERS = ["Date", "Time", "Type", "From", "To", "By", "Note", "Amount", "Currency"]


def export_url(org) -> str:
    return f"/o/{org.slug}/credit/history/export/"


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return b"".join(response)


def csv_rows(response, delimiter=",") -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(body(response)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def story(org, owner, admin, employee):
    """A purchase, an allocation with a note, a take-back: three transfers, a day apart."""
    employee.display_name = "Chloé Dubois"
    employee.save()
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=PARIS), tick=False):
        bought(org, owner)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 23, 30, tzinfo=PARIS), tick=False):
        credit_allocate(
            organization=org, actor=admin, members=[employee], amount="20.5",
            idempotency_key="give", memo="=Conference calls",
        )  # fmt: skip
    with time_machine.travel(datetime.datetime(2026, 3, 3, 0, 30, tzinfo=PARIS), tick=False):
        credit_take_back(
            organization=org, actor=owner, members=[employee], amount=5, idempotency_key="take"
        )


def test_the_csv_holds_what_the_page_shows(org, owner, admin, employee, story, login):
    response = login(owner).get(export_url(org), {"format": "csv"})
    assert response.status_code == 200
    assert response.streaming, "a long history is sent as it is read"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    assert 'filename="credit-history-acme-sarl-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == HEADERS
    assert rows[1:] == [
        ["03/03/2026", "12:30 a.m.", "Take back", "Chloé Dubois",
         "Company balance", str(owner), "", "5.00", "EUR"],
        ["03/02/2026", "11:30 p.m.", "Allocation", "Company balance",
         "Chloé Dubois", str(admin), "'=Conference calls", "-20.50", "EUR"],
        ["03/01/2026", "10 a.m.", "Purchase", "Payments received", "Company balance",
         "System", "Bank transfer 2026-00001", "100.00", "EUR"],
    ]  # fmt: skip


def test_the_file_speaks_the_readers_language(org, owner, employee, story, login):
    response = login(owner).get(export_url(org), {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="fr")
    rows = csv_rows(response, delimiter=";")
    assert rows[0][:3] == ["Date", "Heure", "Type"]
    assert rows[0][7] == "Montant"
    assert rows[3][:3] == ["01/03/2026", "10:00", "Achat"]
    assert rows[3][3:6] == ["Paiements reçus", "Solde de l'entreprise", "Système"]
    assert rows[2][7] == "-20,50"


def test_the_xlsx_holds_dates_and_numbers(org, owner, employee, story, login):
    response = login(owner).get(export_url(org), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_rows(response)
    assert rows[0] == HEADERS
    date, time, kind, source, _to, _by, memo, amount, currency = rows[2]
    assert date.date() == datetime.date(2026, 3, 2)
    assert time == datetime.time(23, 30)
    assert (kind, source, memo, currency) == (
        "Allocation", "Company balance", "'=Conference calls", "EUR"
    )  # fmt: skip
    assert Decimal(str(amount)) == Decimal("-20.5")
    assert len(rows) == 4


def test_the_filters_of_the_page_apply(org, owner, employee, story, login):
    other = MemberFactory(organization=org, display_name="Other Person")
    credit_allocate(organization=org, actor=owner, members=[other], amount=1, idempotency_key="o")
    client = login(owner)
    mine = csv_rows(client.get(export_url(org), {"format": "csv", "member": employee.pk}))
    assert [row[2] for row in mine[1:]] == ["Take back", "Allocation"]
    typed = csv_rows(client.get(export_url(org), {"format": "csv", "member_q": "Chloé"}))
    assert typed == mine
    kind = csv_rows(client.get(export_url(org), {"format": "csv", "kind": "purchase"}))
    assert [row[2] for row in kind[1:]] == ["Purchase"]
    days = csv_rows(
        client.get(
            export_url(org), {"format": "csv", "date_from": "2026-03-02", "date_to": "2026-03-02"}
        )
    )
    assert [row[2] for row in days[1:]] == ["Allocation"]


def test_a_missing_or_odd_format_goes_back_to_the_page(org, owner, story, login):
    client = login(owner)
    for query in ({}, {"format": "pdf"}, {"format": "\x00"}, {"format": "csv" * 5000}):
        response = client.get(export_url(org), {**query, "kind": "allocation"})
        assert response.status_code == 302
        assert response["Location"] == f"/o/{org.slug}/credit/history/?kind=allocation"
    landing = client.get(export_url(org), follow=True)
    assert "Choose CSV or XLSX." in landing.content.decode()


def test_who_may_read_the_history_may_download_it(org, owner, story, login):
    for role, status in ((Role.FINANCE, 200), (Role.ADMIN, 200), (Role.MEMBER, 403)):
        member = MemberFactory(organization=org, role=role)
        assert login(member).get(export_url(org), {"format": "csv"}).status_code == status


def test_only_the_organizations_own_transfers(org, owner, story, other_org, outsider, login):
    bought(other_org, outsider)
    stranger_filter = login(outsider).get(
        export_url(other_org), {"format": "csv", "member": MemberFactory(organization=org).pk}
    )
    rows = csv_rows(stranger_filter)
    assert [row[2] for row in rows[1:]] == ["Purchase"], "the foreign member filter is dropped"
    assert login(outsider).get(export_url(org), {"format": "csv"}).status_code == 404


def test_a_long_history_comes_whole_in_order(org, owner, login):
    bought(org, owner, 500)
    people = MemberFactory.create_batch(30, organization=org)
    for number in range(80):
        credit_allocate(organization=org, actor=owner, members=people, amount="0.01",
                        idempotency_key=f"k{number}")  # fmt: skip
    rows = csv_rows(login(owner).get(export_url(org), {"format": "csv"}))
    assert len(rows) == 1 + 80 * 30 + 1
    assert rows[-1][2] == "Purchase"
