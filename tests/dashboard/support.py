"""Helpers for the reports tests: reading back the files the product writes (CSV, XLSX, PDF)
and calls made through the usage services."""

import csv
import datetime
import io
import re
import zlib
from decimal import Decimal

from django.urls import reverse
from openpyxl import load_workbook

from tests.usage.support import call, fund, give, sms
from usage.services.ingest import usage_records_ingest

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")


def csv_rows(content: bytes, delimiter: str = ",") -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff"), "the BOM tells Excel the file is UTF-8"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def xlsx_sheets(content: bytes) -> dict[str, list[list]]:
    workbook = load_workbook(io.BytesIO(content))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }


def xlsx_workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def pdf_strings(content: bytes) -> list[str]:
    """The text a PDF shows, string by string: its page streams inflated, the operands of
    each "Tj" read back from Windows-1252 (what the core fonts use)."""
    shown = []
    for match in _STREAM.finditer(content):
        try:
            data = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        for string in _SHOWN.findall(data):
            unescaped = re.sub(rb"\\(.)", rb"\1", string)
            shown.append(unescaped.decode("cp1252"))
    return shown


def money(value) -> Decimal:
    return Decimal(str(value))


def usage(org, member, *records) -> None:
    """Calls and messages recorded, priced and paid through the usage services."""
    outcomes = usage_records_ingest(organization=org, records=list(records))
    assert {outcome.status for outcome in outcomes} == {"created"}, outcomes


def busy_month(org, people, *, when: datetime.datetime) -> None:
    """Credit bought and given, then calls and messages by each person at `when`."""
    fund(org, 500)
    for person in people:
        give(org, person, 50)
        usage(
            org,
            person,
            call(person, "+33123456789", 125, started_at=when),
            call(person, "+4930123456", 61, started_at=when + datetime.timedelta(minutes=7)),
            sms(person, "+33612345678", 2, started_at=when + datetime.timedelta(minutes=9)),
        )


def url(org, name, **kwargs) -> str:
    return reverse(f"dashboard:{name}", kwargs={"org_slug": org.slug, **kwargs})
