"""Bulk import: upload, preview every row's result, import the valid rows, download the rest."""

import csv
import io
import threading
import time

import openpyxl
import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from members.models import Invitation, ListMembership, MemberImport
from members.services.imports import MAX_ROWS, member_import_parse, member_import_run
from organizations.models import AuditEvent, Member
from organizations.scoping import all_tenants
from skypemgr.errors import ApplicationError
from tests.factories import (
    InvitationFactory,
    MemberImportFactory,
    MemberListFactory,
    UserFactory,
)

HEADER = "email,phone,username,display name,role,lists,department,job title"


def url(org, name, member_import=None) -> str:
    kwargs = {"org_slug": org.slug}
    if member_import is not None:
        kwargs["import_id"] = member_import.pk
    return reverse(f"members:{name}", kwargs=kwargs)


def csv_upload(text: str, name: str = "people.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(client, org, uploaded_file):
    return client.post(url(org, "import"), {"file": uploaded_file})


def latest_import(org) -> MemberImport:
    return MemberImport.objects.for_org(org).order_by("-pk").first()


def rows_by_line(member_import) -> dict[int, dict]:
    return {row["line"]: row for row in member_import.rows}


def invitations(org):
    return Invitation.objects.for_org(org)


def downloaded_rows(response) -> list[dict]:
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff"), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(content[1:])))


def form_errors(response) -> list[str]:
    return response.context["form"].errors["file"]


@pytest.fixture
def sales(org):
    return MemberListFactory(organization=org, name="Sales")


@pytest.fixture
def support(org):
    return MemberListFactory(organization=org, name="Support")


# --- Pages and people ------------------------------------------------------------------------


def test_upload_page_states_the_limits_and_links_the_template(org, admin, login):
    response = login(admin).get(url(org, "import"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "5 MB" in page
    assert "5,000 rows" in page
    assert url(org, "import-template") in page


def test_template_has_the_header_and_two_examples_that_import_as_is(org, owner, login):
    client = login(owner)
    response = client.get(url(org, "import-template"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    content = response.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(content[1:])))
    assert rows[0] == HEADER.split(",")
    assert len(rows) == 3

    # Its columns are understood; its examples are refused until replaced.
    file = SimpleUploadedFile("template.csv", response.content)
    assert upload(client, org, file).status_code == 302
    member_import = latest_import(org)
    assert member_import.valid_count == 0
    assert all("template's example" in " ".join(row["errors"]) for row in member_import.rows)


def test_finance_cannot_reach_the_import_pages(org, finance, login):
    member_import = MemberImportFactory(organization=org)
    client = login(finance)
    for name in ("import", "import-template"):
        assert client.get(url(org, name)).status_code == 403
    for name in ("import-detail", "import-errors"):
        assert client.get(url(org, name, member_import)).status_code == 403
    response = client.post(url(org, "import"), {"file": csv_upload(f"{HEADER}\na@x.com")})
    assert response.status_code == 403
    assert client.post(url(org, "import-detail", member_import)).status_code == 403
    assert MemberImport.objects.for_org(org).count() == 1


def test_an_import_of_another_organization_is_not_found(org, admin, other_org, login):
    theirs = MemberImportFactory(
        organization=other_org,
        rows=[{"line": 2, "source": [["email", "x@globex.example"]], "errors": []}],
        valid_count=1,
    )
    client = login(admin)
    assert client.get(url(org, "import-detail", theirs)).status_code == 404
    assert client.get(url(org, "import-errors", theirs)).status_code == 404
    assert client.post(url(org, "import-detail", theirs)).status_code == 404
    with all_tenants("the other organization's invitations, to prove none was made"):
        assert Invitation.objects.count() == 0


# --- A good file -------------------------------------------------------------------------------


def test_valid_file_is_previewed_then_imported(
    org, owner, login, sales, support, django_capture_on_commit_callbacks, sms_outbox
):
    existing_user = UserFactory(username="camille")
    text = (
        f"{HEADER}\n"
        "Ana@Example.com,,,Ana Lima,admin,Sales|support,Sales,Account manager\n"
        ",+33 6 12 34 56 79,,Bo Berg,finance,,Finance,Accountant\n"
        ",,Camille,,,Support; Sales,,\n"
    )
    client = login(owner)
    response = upload(client, org, csv_upload(text))
    member_import = latest_import(org)
    assert response.status_code == 302
    assert response["Location"] == url(org, "import-detail", member_import)
    assert (member_import.status, member_import.valid_count, member_import.invalid_count) == (
        "preview",
        3,
        0,
    )
    assert invitations(org).count() == 0
    rows = rows_by_line(member_import)
    assert rows[2]["address"] == "ana@example.com"
    assert rows[2]["role"] == "admin"
    assert [name for _pk, name in rows[2]["lists"]] == ["Sales", "Support"]
    assert rows[3]["address"] == "+33612345679"
    assert rows[4]["address"] == "camille"

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Import the 3 valid rows" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(org, "import-detail", member_import), follow=True)
    assert "3 invitations queued." in [str(message) for message in response.context["messages"]]
    member_import.refresh_from_db()
    assert member_import.status == "imported"
    assert member_import.imported_at is not None
    sent = {(i.channel, i.address, i.role) for i in invitations(org)}
    assert sent == {
        ("email", "ana@example.com", "admin"),
        ("phone", "+33612345679", "finance"),
        ("username", "camille", "member"),
    }
    ana = Member.objects.for_org(org).get(email="ana@example.com")
    assert (ana.status, ana.display_name, ana.department, ana.job_title) == (
        "invited",
        "Ana Lima",
        "Sales",
        "Account manager",
    )
    in_lists = ListMembership.objects.for_org(org).filter(member=ana)
    assert {membership.member_list_id for membership in in_lists} == {sales.pk, support.pk}
    camille = invitations(org).get(channel="username")
    assert camille.invited_user == existing_user
    # Sending was queued after commit: emails (the account's for the username), a text.
    assert sorted(message.to for message in mail.outbox) == [
        ["ana@example.com"],
        ["camille@example.com"],
    ]
    assert [sms.to for sms in sms_outbox] == ["+33612345679"]
    assert url(org, "invitation-list") in response.content.decode()
    verbs = list(AuditEvent.objects.for_org(org).values_list("verb", flat=True))
    assert "import.checked" in verbs
    assert "import.done" in verbs


# --- Rows refused, and why --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("not-an-email,,,,,,,", "not a valid email address"),
        (",+33 12,,,,,,", "not a valid mobile number"),
        (",,no such name,,,,,", "cannot be a username"),
        ("a@example.com,,,,,Sales|Ghosts,,", "Unknown list: Ghosts"),
        ("a@example.com,+33612345679,,,,,,", "one of email, phone or username"),
        (",,,Nobody,,,,", "Give an email, a mobile number or a username"),
        ("a@example.com,,,,boss,,,", "Unknown role: boss"),
        ("a@example.com,,,,owner,,,", "Only owners can invite owners and admins"),
        ("a@example.com,,,,admin,,,", "Only owners can invite owners and admins"),
        ("a@example.com,,,,,,,,extra", "more cells than the header row"),
        (f"a@example.com,,,{'x' * 151},,,,", "The name is too long"),
    ],
)
def test_invalid_rows_get_their_reason(org, admin, login, sales, row, reason):
    response = upload(login(admin), org, csv_upload(f"{HEADER}\n{row}\n"))
    assert response.status_code == 302
    member_import = latest_import(org)
    assert (member_import.valid_count, member_import.invalid_count) == (0, 1)
    assert reason.lower() in " ".join(member_import.rows[0]["errors"]).lower()
    page = login(admin).get(response["Location"]).content.decode()
    assert "Import the" not in page


def test_owner_may_import_owners_and_admins(org, owner, login):
    text = "email,role\nboss@example.com,Owner\nchief@example.com,Administrateur\n"
    upload(login(owner), org, csv_upload(text))
    member_import = latest_import(org)
    assert member_import.valid_count == 2
    assert [row["role"] for row in member_import.rows] == ["owner", "admin"]


def test_mixed_file_imports_the_valid_rows_and_hands_back_the_others(org, admin, login, sales):
    text = (
        "E-mail,Name,Lists,Notes\n"
        "ok1@example.com,One,Sales,first\n"
        "broken-address,Two,,second\n"
        "ok2@example.com,Three,,third\n"
        "ok3@example.com,Four,Marketing,fourth\n"
    )
    client = login(admin)
    upload(client, org, csv_upload(text))
    member_import = latest_import(org)
    assert (member_import.valid_count, member_import.invalid_count) == (2, 2)
    page = client.get(url(org, "import-detail", member_import)).content.decode()
    assert "Download the 2 invalid rows with reasons" in page
    assert "Columns left out: Notes" in page

    response = client.post(url(org, "import-detail", member_import))
    assert response.status_code == 302
    assert set(invitations(org).values_list("address", flat=True)) == {
        "ok1@example.com",
        "ok2@example.com",
    }

    response = client.get(url(org, "import-errors", member_import))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "people-invalid-rows.csv" in response["Content-Disposition"]
    rows = downloaded_rows(response)
    assert list(rows[0]) == ["E-mail", "Name", "Lists", "Notes", "reasons"]
    assert [(row["E-mail"], row["Notes"]) for row in rows] == [
        ("broken-address", "second"),
        ("ok3@example.com", "fourth"),
    ]
    assert "not a valid email address" in rows[0]["reasons"]
    assert rows[1]["reasons"] == "Unknown list: Marketing"


def test_rows_listed_twice_are_refused_after_the_first(org, admin, login):
    text = "email\nsam@example.com\nother@example.com\nSAM@example.com \n"
    upload(login(admin), org, csv_upload(text))
    rows = rows_by_line(latest_import(org))
    assert rows[2]["errors"] == []
    assert rows[3]["errors"] == []
    assert rows[4]["errors"] == ["Listed twice."]


def test_members_and_invited_people_are_refused(org, admin, employee, login):
    InvitationFactory(organization=org, address="pending@example.com")
    text = f"email\n{employee.email}\npending@example.com\nnew@example.com\n"
    upload(login(admin), org, csv_upload(text))
    rows = rows_by_line(latest_import(org))
    assert rows[2]["errors"] == ["Already a member."]
    assert rows[3]["errors"] == ["Already invited: resend the invitation instead."]
    assert rows[4]["errors"] == []


def test_an_invitation_past_its_date_but_not_yet_swept_refuses_the_row(org, admin, login):
    InvitationFactory(
        organization=org,
        address="late@example.com",
        expires_at=timezone.now() - timezone.timedelta(hours=1),
    )
    upload(login(admin), org, csv_upload("email\nlate@example.com\n"))
    assert "has expired" in latest_import(org).rows[0]["errors"][0]


def test_line_numbers_are_those_of_the_file(org, admin, login):
    text = '\n\nemail,name\n\nfirst@example.com,"Two\nlines"\n\n,\nbad\n'
    upload(login(admin), org, csv_upload(text))
    rows = latest_import(org).rows
    assert [row["line"] for row in rows] == [5, 9]
    assert rows[0]["display_name"] == "Two\nlines"


# --- Rows that changed between the preview and the import ---------------------------------


def test_rows_invited_meanwhile_are_refused_at_import_and_the_rest_imported(
    org, admin, login, sales
):
    client = login(admin)
    upload(client, org, csv_upload("email,lists\na@example.com,Sales\nb@example.com,\n"))
    member_import = latest_import(org)
    assert member_import.valid_count == 2
    InvitationFactory(organization=org, address="b@example.com")

    response = client.post(url(org, "import-detail", member_import), follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert "1 invitation queued." in messages
    assert any("1 row changed since the check" in message for message in messages)
    member_import.refresh_from_db()
    assert (member_import.valid_count, member_import.invalid_count) == (1, 1)
    assert invitations(org).filter(address="a@example.com").exists()
    rows = downloaded_rows(client.get(url(org, "import-errors", member_import)))
    assert [(row["email"], row["reasons"]) for row in rows] == [
        ("b@example.com", "Already invited: resend the invitation instead.")
    ]


def test_a_list_deleted_meanwhile_refuses_its_rows(org, admin, login, sales):
    client = login(admin)
    upload(client, org, csv_upload("email,lists\na@example.com,Sales\nb@example.com,\n"))
    member_import = latest_import(org)
    sales.delete()
    client.post(url(org, "import-detail", member_import))
    assert list(invitations(org).values_list("address", flat=True)) == ["b@example.com"]
    assert rows_by_line(MemberImport.objects.for_org(org).get(pk=member_import.pk))[2][
        "errors"
    ] == ["Unknown list: Sales"]


def test_a_second_post_imports_nothing_more(org, admin, login):
    client = login(admin)
    upload(client, org, csv_upload("email\na@example.com\nb@example.com\n"))
    member_import = latest_import(org)
    assert client.post(url(org, "import-detail", member_import)).status_code == 302
    assert invitations(org).count() == 2
    events = AuditEvent.objects.for_org(org).count()

    response = client.post(url(org, "import-detail", member_import), follow=True)
    assert "This file was already imported." in [str(m) for m in response.context["messages"]]
    assert invitations(org).count() == 2
    assert AuditEvent.objects.for_org(org).count() == events
    member_import.refresh_from_db()
    assert (member_import.valid_count, member_import.invalid_count) == (2, 0)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_runs_of_one_import_invite_once(org, admin):
    member_import = member_import_parse(
        organization=org,
        actor=admin,
        uploaded_file=csv_upload("email\na@example.com\nb@example.com\n"),
    )
    start = threading.Barrier(2)
    outcomes = []

    def run() -> None:
        try:
            start.wait()
            outcomes.append(
                member_import_run(organization=org, actor=admin, member_import=member_import)
            )
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [(2, []), "already_imported"]
    assert invitations(org).count() == 2


def test_the_daily_limit_refuses_the_whole_import_and_keeps_the_preview(org, admin, login):
    org.invitation_daily_limit = 1
    org.save()
    client = login(admin)
    upload(client, org, csv_upload("email\na@example.com\nb@example.com\n"))
    member_import = latest_import(org)
    response = client.post(url(org, "import-detail", member_import), follow=True)
    assert any("invitations a day" in str(message) for message in response.context["messages"])
    assert invitations(org).count() == 0
    member_import.refresh_from_db()
    assert member_import.status == "preview"


def test_a_file_without_valid_rows_cannot_be_imported(org, admin, login):
    client = login(admin)
    upload(client, org, csv_upload("email\nnope\n"))
    member_import = latest_import(org)
    response = client.post(url(org, "import-detail", member_import), follow=True)
    assert any("No row of this file" in str(message) for message in response.context["messages"])
    assert latest_import(org).status == "preview"


# --- Files from the real world ---------------------------------------------------------------


def test_french_excel_csv_in_windows_1252_with_semicolons(org, owner, login):
    MemberListFactory(organization=org, name="Équipe Ventes")
    text = (
        "Courriel;Nom;Rôle;Listes;Service;Poste\r\n"
        "helene.berenice@exemple.fr;Hélène Bérénice;administrateur;équipe ventes;"
        "Comptabilité;Contrôleuse de gestion\r\n"
        "francois@exemple.fr;François Mañé;Membre;;Direction générale;Président\r\n"
    )
    client = login(owner)
    response = upload(client, org, csv_upload(text, name="équipe.csv", encoding="cp1252"))
    assert response.status_code == 302
    member_import = latest_import(org)
    assert member_import.file_name == "équipe.csv"
    assert member_import.valid_count == 2, member_import.rows
    client.post(url(org, "import-detail", member_import))
    helene = Member.objects.for_org(org).get(email="helene.berenice@exemple.fr")
    assert (helene.display_name, helene.role, helene.department, helene.job_title) == (
        "Hélène Bérénice",
        "admin",
        "Comptabilité",
        "Contrôleuse de gestion",
    )
    assert ListMembership.objects.for_org(org).filter(member=helene).count() == 1
    assert Member.objects.for_org(org).get(email="francois@exemple.fr").display_name == (
        "François Mañé"
    )


def test_utf8_file_with_a_bom(org, admin, login):
    text = "\ufeffEmail,Display name,Job title\nzoe@example.com,Zoë Ødegård,Ingénieure\n"
    upload(login(admin), org, csv_upload(text))
    member_import = latest_import(org)
    assert member_import.rows[0]["display_name"] == "Zoë Ødegård"
    assert member_import.rows[0]["job_title"] == "Ingénieure"
    assert member_import.rows[0]["source"][0][0] == "Email"


def test_french_headers_in_any_case(org, owner, login):
    text = "TÉLÉPHONE;NOM D'UTILISATEUR;Nom;Fonction\n+33 6 12 34 56 80;;Léa;Vendeuse\n"
    upload(login(owner), org, csv_upload(text))
    row = latest_import(org).rows[0]
    assert (row["channel"], row["address"], row["display_name"], row["job_title"]) == (
        "phone",
        "+33612345680",
        "Léa",
        "Vendeuse",
    )
    assert row["errors"] == []


def test_xlsx_file_first_sheet(org, admin, login, sales):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "People"
    sheet.append(["Email", "Phone", "Name", "Lists"])
    sheet.append(["xl@example.com", None, "Excel Person", "sales"])
    sheet.append([None, None, None, None])
    sheet.append([None, 33612345681, "Number Typed As Number", None])
    sheet.append([None, "+33 6 12 34 56 82", "Phone Person", None])
    workbook.create_sheet("Other").append(["email", "ignored@example.com"])
    # The second sheet is the one open in Excel; the first is read all the same.
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    file = SimpleUploadedFile("people.xlsx", buffer.getvalue())

    client = login(admin)
    assert upload(client, org, file).status_code == 302
    member_import = latest_import(org)
    rows = rows_by_line(member_import)
    assert set(rows) == {2, 4, 5}
    assert rows[2]["address"] == "xl@example.com"
    assert rows[2]["lists"] == [[sales.pk, "Sales"]]
    # Excel dropped the +: read in the organization's country (France), 33… is still +33….
    assert rows[4]["address"] == "+33612345681"
    assert rows[5]["address"] == "+33612345682"
    client.post(url(org, "import-detail", member_import))
    assert invitations(org).count() == 3


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "people.csv", "The file is empty."),
        (b"\r\n\r\n  \r\n", "people.csv", "The file is empty."),
        (b"\xef\xbb\xbf", "people.csv", "The file is empty."),
        (b"email,name\r\n", "people.csv", "no rows under its header row"),
        (b"email;name\n;\n\n", "people.csv", "no rows under its header row"),
        (b"name,department\nAna,Sales\n", "people.csv", "at least one of: email, phone, username"),
        (b"just some words\nand more\n", "notes.txt", "at least one of: email, phone, username"),
        (b"email,Courriel\na@example.com,b@example.com\n", "people.csv", "Two columns"),
        (b"PK\x03\x04garbage", "people.xlsx", "This Excel file could not be read"),
        (b"email\na@example.com\n", "people.xlsx", "This Excel file could not be read"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "people.csv", ".xls"),
        (bytes(range(256)) * 4, "people.csv", "not a CSV or Excel file"),
        (b"\x1f\x8b\x08\x00" + bytes(50), "people.csv", "not a CSV or Excel file"),
    ],
)
def test_whole_file_problems_are_form_errors(org, admin, login, content, name, message):
    response = upload(login(admin), org, SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert any(message in error for error in form_errors(response))
    assert MemberImport.objects.for_org(org).count() == 0


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.one_of(
        st.binary(max_size=3000),
        st.binary(max_size=3000).map(lambda data: b"PK\x03\x04" + data),
        st.text(max_size=3000).map(lambda text: ("email;name\n" + text).encode("utf-8")),
        st.text(alphabet=',;|"\r\n\t @+.aé0', max_size=500).map(
            lambda text: ("email,phone,username,name,role,lists\n" + text).encode("cp1252")
        ),
    )
)
def test_any_bytes_give_a_preview_or_a_clear_refusal(org, admin, content):
    """Whatever is uploaded, the answer is a stored preview or an ApplicationError."""
    refusal = None
    try:
        member_import = member_import_parse(
            organization=org, actor=admin, uploaded_file=SimpleUploadedFile("f.csv", content)
        )
    except ApplicationError as error:
        refusal = error
    if refusal is not None:
        assert refusal.field == "file"
    else:
        assert member_import.valid_count + member_import.invalid_count == len(member_import.rows)


def test_a_png_renamed_csv_is_refused(org, admin, login):
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
        b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    response = upload(login(admin), org, SimpleUploadedFile("people.csv", png, "text/csv"))
    assert response.status_code == 200
    assert form_errors(response) == [
        "This is not a CSV or Excel file. Upload a .csv or .xlsx file."
    ]
    assert MemberImport.objects.for_org(org).count() == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [("people.xls", ".xls"), ("people.pdf", "Upload a .csv or .xlsx file."), ("people", ".csv")],
)
def test_other_kinds_of_files_are_refused_by_name(org, admin, login, name, message):
    response = upload(login(admin), org, SimpleUploadedFile(name, b"email\na@example.com\n"))
    assert response.status_code == 200
    assert message in form_errors(response)[0]


def test_a_file_over_5_mb_is_refused(org, admin, login):
    row = "someone@example.com,,,A name long enough to fill the file quickly,,,,\n"
    text = HEADER + "\n" + row * (5 * 1024 * 1024 // len(row) + 1)
    response = upload(login(admin), org, csv_upload(text))
    assert response.status_code == 200
    assert form_errors(response) == ["The file is larger than 5 MB. Split it into several files."]
    assert MemberImport.objects.for_org(org).count() == 0


def test_more_than_5000_rows_is_refused(org, admin, login):
    text = "email\n" + "".join(f"p{n}@example.com\n" for n in range(MAX_ROWS + 1))
    response = upload(login(admin), org, csv_upload(text))
    assert response.status_code == 200
    assert form_errors(response) == [
        "The file has more than 5,000 rows. Split it into several files."
    ]
    assert MemberImport.objects.for_org(org).count() == 0


def test_nothing_but_a_form_error_without_a_file(org, admin, login):
    response = login(admin).post(url(org, "import"), {})
    assert response.status_code == 200
    assert form_errors(response) == ["Choose the file to import."]


def test_the_preview_pages_the_rows_but_counts_them_all(org, admin, login):
    text = "email\n" + "".join(f"p{n}@example.com\nbad{n}\n" for n in range(150))
    client = login(admin)
    upload(client, org, csv_upload(text))
    member_import = latest_import(org)
    detail = url(org, "import-detail", member_import)
    response = client.get(detail)
    assert len(response.context["rows"]) == 100
    assert "Import the 150 valid rows" in response.content.decode()
    invalid = client.get(detail, {"show": "invalid", "page": 2}).context["rows"]
    assert len(invalid) == 50
    assert all(row["errors"] for row in invalid)
    assert client.get(detail, {"show": "nonsense", "page": "x"}).status_code == 200


# --- 5,000 rows in one request ---------------------------------------------------------------


def test_5000_rows_are_checked_and_imported_within_seconds(
    org, owner, login, sales, django_assert_max_num_queries
):
    lines = [HEADER]
    for n in range(MAX_ROWS):
        lists = "" if n % 5 == 0 else "Sales"
        lines.append(f"p{n}@bulk.example.com,,,Person {n},finance,{lists},Office,Clerk")
    client = login(owner)
    file = csv_upload("\n".join(lines) + "\n")

    started = time.perf_counter()
    with django_assert_max_num_queries(40):
        response = upload(client, org, file)
    checked = time.perf_counter()
    assert response.status_code == 302
    member_import = latest_import(org)
    assert member_import.valid_count == MAX_ROWS, member_import.rows[0]["errors"]

    with django_assert_max_num_queries(60):
        response = client.post(url(org, "import-detail", member_import))
    imported = time.perf_counter()
    assert response.status_code == 302
    assert invitations(org).count() == MAX_ROWS
    assert ListMembership.objects.for_org(org).count() == MAX_ROWS * 4 // 5
    print(
        f"\n5,000 rows: upload and check {checked - started:.2f} s, "
        f"import {imported - checked:.2f} s"
    )
    assert imported - started < 30
