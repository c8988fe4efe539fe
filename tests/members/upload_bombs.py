"""Crafted uploads for the member import: small files that unpack or parse into something huge.

Each builder returns the bytes of a file an attacker could upload (all well under the 5 MB
upload limit); tests/members/test_import_bombs.py checks that each is refused with a clear
message, and bench/bench_import.py prints what reading each one costs. They are written in
pieces, so that building one costs the test little memory.
"""

import io
import struct
import zipfile

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCUMENT_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_SPREADSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEET_TYPE}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SPREADSHEET_TYPE}.worksheet+xml"/>'
    "{shared_strings}</Types>"
)
SHARED_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    f'ContentType="{_SPREADSHEET_TYPE}.sharedStrings+xml"/>'
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL_NS}">'
    f'<Relationship Id="rId1" Type="{DOCUMENT_TYPE}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
    '<sheets><sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def _workbook_rels(shared_strings: bool) -> str:
    strings = (
        f'<Relationship Id="rId2" Type="{DOCUMENT_TYPE}/sharedStrings" Target="sharedStrings.xml"/>'
        if shared_strings
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL_NS}">'
        f'<Relationship Id="rId1" Type="{DOCUMENT_TYPE}/worksheet" '
        f'Target="worksheets/sheet1.xml"/>{strings}</Relationships>'
    )


SHEET_START = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'
SHEET_END = "</sheetData></worksheet>"
HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>'
CHUNK = 1 << 20


def _write_repeated(part, head: str, unit: str, count: int, tail: str) -> None:
    """Write head, `unit` `count` times, then tail, a megabyte at a time."""
    part.write(head.encode())
    unit_bytes = unit.encode()
    per_chunk = max(1, CHUNK // len(unit_bytes))
    block = unit_bytes * per_chunk
    whole, rest = divmod(count, per_chunk)
    for _ in range(whole):
        part.write(block)
    part.write(unit_bytes * rest)
    part.write(tail.encode())


def _xlsx(sheet_writer, *, shared_strings_writer=None, extra_parts: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        shared_strings = SHARED_STRINGS_TYPE if shared_strings_writer is not None else ""
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(shared_strings=shared_strings))
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr(
            "xl/_rels/workbook.xml.rels", _workbook_rels(shared_strings_writer is not None)
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            sheet_writer(part)
        if shared_strings_writer is not None:
            with archive.open("xl/sharedStrings.xml", "w") as part:
                shared_strings_writer(part)
        for number in range(extra_parts):
            archive.writestr(f"xl/media/part{number}.bin", b"")
    return buffer.getvalue()


def plain_xlsx(rows: int = 3) -> bytes:
    """A well-formed workbook: a header and `rows` people, as inline strings."""

    def sheet(part):
        body = "".join(
            f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>p{n}@example.com</t></is></c></row>'
            for n in range(2, rows + 2)
        )
        part.write((SHEET_START + HEADER_ROW + body + SHEET_END).encode())

    return _xlsx(sheet)


def huge_cell_xlsx(megabytes: float = 300) -> bytes:
    """One cell of `megabytes` MB of text: 300 MB pack into 0.3 MB."""

    def sheet(part):
        _write_repeated(
            part,
            SHEET_START + HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>',
            "A" * 1024,
            int(megabytes * 1024),
            "</t></is></c></row>" + SHEET_END,
        )

    return _xlsx(sheet)


def wide_row_xlsx(cells: int = 2_000_000) -> bytes:
    """One row of `cells` cells under the header."""

    def sheet(part):
        _write_repeated(
            part, SHEET_START + HEADER_ROW + '<row r="2">', "<c/>", cells, "</row>" + SHEET_END
        )

    return _xlsx(sheet)


def many_rows_xlsx(rows: int = 2_000_000) -> bytes:
    """`rows` empty rows, then one person."""

    def sheet(part):
        _write_repeated(
            part,
            SHEET_START + HEADER_ROW,
            "<row/>",
            rows,
            '<row><c t="inlineStr"><is><t>a@example.com</t></is></c></row>' + SHEET_END,
        )

    return _xlsx(sheet)


def far_row_xlsx(row: int = 1_048_576) -> bytes:
    """A tiny sheet whose only person sits on Excel's last row: a reader that fills the rows in
    between makes a million of them."""

    def sheet(part):
        person = f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>a@example.com</t></is></c>'
        part.write((SHEET_START + HEADER_ROW + person + "</row>" + SHEET_END).encode())

    return _xlsx(sheet)


def shared_strings_xlsx(strings: int = 1_000_000, *, numbered: bool = False) -> bytes:
    """A shared-strings table of `strings` strings, which a reader loads at once: the same
    letter each (it packs a thousandfold), or numbered ones (which pack like real text)."""

    def sheet(part):
        row = '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
        part.write((SHEET_START + HEADER_ROW + row + SHEET_END).encode())

    def shared_strings(part):
        head = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}">'
        if not numbered:
            _write_repeated(part, head, "<si><t>x</t></si>", strings, "</sst>")
            return
        part.write(head.encode())
        for start in range(0, strings, 10_000):
            stop = min(strings, start + 10_000)
            part.write("".join(f"<si><t>{n}</t></si>" for n in range(start, stop)).encode())
        part.write(b"</sst>")

    return _xlsx(sheet, shared_strings_writer=shared_strings)


def many_cells_xlsx(cells: int = 600_000, per_row: int = 10) -> bytes:
    """`cells` numbered cells, `per_row` to a row: a sheet that packs like real data and is
    still too much to walk."""

    def sheet(part):
        part.write((SHEET_START + HEADER_ROW).encode())
        for first in range(0, cells, 10_000):
            numbers = range(first, min(cells, first + 10_000))
            rows = (
                "<row>" + "".join(f"<c><v>{n + k}</v></c>" for k in range(per_row)) + "</row>"
                for n in numbers[::per_row]
            )
            part.write("".join(rows).encode())
        part.write(SHEET_END.encode())

    return _xlsx(sheet)


def entity_xlsx() -> bytes:
    """ "Billion laughs": shared strings that expand an entity of entities."""

    def sheet(part):
        row = '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
        part.write((SHEET_START + HEADER_ROW + row + SHEET_END).encode())

    def shared_strings(part):
        entities = '<!ENTITY a0 "lol">' + "".join(
            f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
        )
        part.write(
            f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'
            f'<sst xmlns="{MAIN_NS}"><si><t>&a9;</t></si></sst>'.encode()
        )

    return _xlsx(sheet, shared_strings_writer=shared_strings)


def many_parts_xlsx(parts: int = 20_000) -> bytes:
    """A well-formed workbook packed with `parts` empty files."""
    return _xlsx(lambda part: part.write(plain_xlsx_sheet()), extra_parts=parts)


def plain_xlsx_sheet() -> bytes:
    return (SHEET_START + HEADER_ROW + SHEET_END).encode()


def lying_sizes_xlsx(megabytes: int = 200, claimed: int = 2048) -> bytes:
    """The huge cell again, with the zip's headers claiming the sheet unpacks to `claimed`
    bytes: a reader that trusts the headers expects little, then gets much more."""
    data = bytearray(huge_cell_xlsx(megabytes))
    name = b"xl/worksheets/sheet1.xml"
    # (signature, offset of the uncompressed size, offset of the name's length, of the name)
    for signature, size_at, name_length_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),  # local file header
        (b"PK\x01\x02", 24, 28, 46),  # central directory record
    ):
        position = data.find(signature)
        while position != -1:
            length = struct.unpack_from("<H", data, position + name_length_at)[0]
            if data[position + name_at : position + name_at + length] == name:
                struct.pack_into("<I", data, position + size_at, claimed)
            position = data.find(signature, position + 4)
    return bytes(data)


def wide_csv(cells: int = 2_000_000) -> bytes:
    """A header, then one line of `cells` empty cells."""
    return b"email\n" + b"," * cells + b"\n"


def huge_field_csv(megabytes: int = 4) -> bytes:
    """A header, then one quoted cell of `megabytes` MB."""
    return b'email\n"' + b"A" * (megabytes << 20) + b'"\n'


def blank_lines_csv(lines: int = 4_000_000) -> bytes:
    """A header, millions of blank lines, then one person."""
    return b"email\n" + b"\n" * lines + b"a@example.com\n"
