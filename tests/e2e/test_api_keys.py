"""An admin creates an API key from the settings, copies it from the page that shows it once,
finds only its first characters in the list, revokes it after a confirmation, and the API
refuses it from then on; the API's docs page loads under the CSP, from our own files."""

import re

import pytest
from playwright.sync_api import expect

from organizations.roles import Role
from tests.e2e.test_credit_journey import sign_in
from tests.factories import MemberFactory


@pytest.mark.e2e
def test_create_copy_and_revoke_an_api_key(live_server, new_context, console_errors):
    base = live_server.url
    admin = MemberFactory(role=Role.ADMIN, user__username="admin-alma")
    org = admin.organization

    context = new_context(locale="en-GB", permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, "admin-alma")
    page.goto(f"{base}/o/{org.slug}/settings/")
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API key yet.")).to_be_visible()
    page.get_by_role("link", name="New API key").click()
    page.get_by_label("Name").fill("Office PBX")
    page.get_by_role("button", name="Create the key").click()

    expect(page.get_by_role("alert")).to_contain_text("it will not be shown again")
    field = page.get_by_label("API key", exact=True)
    plaintext = field.input_value()
    assert re.fullmatch(r"smk_[A-Za-z0-9_-]{43}", plaintext)
    copy = page.get_by_role("button", name="Copy")
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext

    # The API takes it.
    answer = context.request.get(
        f"{base}/api/v1/usage", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert answer.status == 200

    page.get_by_role("link", name="Done").click()
    keys = page.locator("#api-keys")
    expect(keys).to_contain_text("Office PBX")
    expect(keys).to_contain_text(plaintext[:12])
    expect(keys).to_contain_text("Active")
    assert plaintext not in page.content()

    page.get_by_role("link", name=re.compile("Revoke")).click()
    expect(page.get_by_role("heading", name=re.compile("Revoke the API key"))).to_be_visible()
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.locator(".alert-success")).to_contain_text("no longer works")
    expect(keys).to_contain_text("Revoked")
    expect(page.get_by_role("link", name=re.compile("Revoke"))).to_have_count(0)

    refused = context.request.get(
        f"{base}/api/v1/usage", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert refused.status == 401
    assert console_errors == []


@pytest.mark.e2e
def test_the_api_docs_load_under_the_csp(live_server, new_context, console_errors):
    page = new_context(locale="en-GB").new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("SkypeMgr call-record API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/usage").first).to_be_visible()
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert console_errors == []
