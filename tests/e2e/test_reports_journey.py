"""A finance member's journey through the reports: the overview follows an allocation made in
another session without a reload; then the monthly report, the month before, the charts drawn
with no console error, and the members' table downloaded as CSV with the same figures."""

import csv
import datetime
import io
import re

import pytest
from playwright.sync_api import expect

from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.e2e.test_overview_live import console_errors_of, signed_in
from tests.factories import MemberFactory
from tests.usage.support import call, give, rate
from usage.services.ingest import usage_records_ingest


@pytest.mark.e2e
def test_overview_then_the_monthly_report_and_its_csv(live_server, new_context):
    owner = MemberFactory(role=Role.OWNER)
    org = owner.organization
    finance = MemberFactory(organization=org, role=Role.FINANCE)
    admin = MemberFactory(organization=org, role=Role.ADMIN)
    ada = MemberFactory(organization=org, display_name="Ada Caller")
    bought(org, owner, 100)
    rate("33", "0.10", country="FR")
    give(org, ada, 20)
    usage_records_ingest(organization=org, records=[call(ada, seconds=600)])

    page = signed_in(new_context, live_server, finance.user, accept_downloads=True).new_page()
    errors = console_errors_of(page)
    page.goto(f"{live_server.url}/o/{org.slug}/reports/")
    members = page.locator('[data-figure="members"]')
    expect(members).to_have_text("€19.00")
    page.evaluate("window.sameVisit = true")

    giver = signed_in(new_context, live_server, admin.user).new_page()
    giver.goto(f"{live_server.url}/o/{org.slug}/members/{ada.pk}/credit/")
    giver.get_by_label(re.compile("Amount to give")).fill("5")
    giver.locator("button[value=allocate]").click()
    expect(giver.locator(".alert-success").first).to_be_visible()
    expect(members).to_have_text("€24.00", timeout=7_000)
    assert page.evaluate("window.sameVisit") is True

    # The monthly report, from the Reports tabs.
    page.get_by_role("link", name="Monthly", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Monthly report")
    member_table = page.locator("#table-by_member")
    expect(member_table).to_contain_text("Ada Caller")
    expect(member_table.locator("tfoot")).to_contain_text("€1.00")
    expect(page.locator("canvas#chart-categories")).to_be_visible()
    this_month = datetime.date.today().replace(day=1)
    before = (this_month - datetime.timedelta(days=1)).replace(day=1)

    # The month before: nothing was spent then.
    page.get_by_role("link", name=re.compile(before.strftime("%B %Y"))).first.click()
    expect(page).to_have_url(re.compile(f"month={before:%Y-%m}"))
    expect(page.locator("#table-by_member")).to_contain_text("Nothing in this period.")
    page.go_back()
    expect(page.locator("#table-by_member")).to_contain_text("Ada Caller")

    with page.expect_download() as download:
        member_table.get_by_role("link", name=re.compile("CSV")).click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    ada_row = next(row for row in rows if row and row[0] == "Ada Caller")
    assert "1.00" in ada_row
    assert errors == []
