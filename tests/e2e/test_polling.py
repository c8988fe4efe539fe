"""Live parts of a page poll only while the tab is shown: a hidden tab sends no polling
request, and showing it again refreshes at once, then polling goes on (static/js/app.js)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from organizations.roles import Role
from tests.factories import MemberFactory, PurchaseFactory

STATUS = "/status/"

# Headless Chromium keeps every page visible: the test tells the page it is hidden, as the
# browser does when the person switches tabs.
HIDE = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""

# Shows the page again; returns how many htmx requests that started at once.
SHOW = """() => {
  let started = 0;
  const count = (event) => { if (!event.defaultPrevented) started += 1; };
  document.addEventListener("htmx:beforeRequest", count);
  delete document.hidden;
  delete document.visibilityState;
  document.dispatchEvent(new Event("visibilitychange"));
  document.removeEventListener("htmx:beforeRequest", count);
  return started;
}"""

# Counts the polls that fell due and were dropped (app.js cancels them before htmx sends).
COUNT_DROPPED = """() => {
  window.droppedPolls = 0;
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.defaultPrevented) window.droppedPolls += 1;
  });
}"""


@pytest.fixture
def signed_in_context(browser, live_server):
    """A browser context where `user` is signed in (the session made by Django's client)."""
    contexts = []

    def _context(user):
        client = Client()
        client.force_login(user)
        context = browser.new_context(locale="en-GB")
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        name = settings.SESSION_COOKIE_NAME
        context.add_cookies([{"name": name, "value": session, "url": live_server.url}])
        contexts.append(context)
        return context

    yield _context
    # Closed before the live server stops, so no poll reaches it on the way out.
    for context in contexts:
        context.close()


@pytest.mark.e2e
def test_a_hidden_tab_stops_polling_and_refreshes_when_shown(live_server, signed_in_context):
    owner = MemberFactory(role=Role.OWNER)
    org = owner.organization
    purchase = PurchaseFactory(organization=org, method="card", reference="")
    page = signed_in_context(owner.user).new_page()
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    polled = []
    page.on(
        "request", lambda request: polled.append(request.url) if STATUS in request.url else None
    )
    url = reverse(
        "credit:purchase-return", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
    )

    page.goto(f"{live_server.url}{url}")
    page.wait_for_event("request", lambda request: STATUS in request.url)

    page.evaluate(COUNT_DROPPED)
    page.evaluate(HIDE)
    page.wait_for_function("() => window.droppedPolls >= 1")
    sent = len(polled)
    page.wait_for_function("() => window.droppedPolls >= 3")
    assert len(polled) == sent, "no polling request while hidden"

    with page.expect_request(lambda request: STATUS in request.url):
        assert page.evaluate(SHOW) == 1, "one refresh as soon as the tab shows"
    page.wait_for_event("request", lambda request: STATUS in request.url)
    assert page.evaluate("() => window.droppedPolls") == 3, "polling goes on once shown"
    assert errors == []
