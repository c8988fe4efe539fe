"""A member opens the Phone page: Twilio's Voice SDK (vendored) loads under the page's CSP with
no violation; they type a number, with the keyboard or the dial pad, and see its price per
minute and how long they can call; the Call button waits for that answer. The page works on a
phone's width and has no serious accessibility problem."""

import json
import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from twilio.jwt.access_token import AccessToken

from organizations.roles import Role
from tests.e2e.test_credit_journey import sign_in
from tests.factories import MemberFactory
from tests.usage.support import fund, give, rate
from usage.services.authorize import member_identity

# Every CSP violation the page meets, from the document's own event (the console says only
# some of them in words).
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


SECRET = "the-api-key-secret-of-the-browser-tests"
SIGNALLING = "wss://voice-js.roaming.twilio.com/signal"


@pytest.fixture
def calling(settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "a" * 32
    settings.TWILIO_API_KEY_SID = "SK" + "b" * 32
    settings.TWILIO_API_KEY_SECRET = SECRET
    settings.TWILIO_TWIML_APP_SID = "AP" + "c" * 32


@pytest.fixture
def caller(transactional_db):
    member = MemberFactory(
        role=Role.MEMBER,
        user__username="caller-camille",
        display_name="Camille " + "Longuenom-" * 9,
    )
    organization = member.organization
    rate("33", "0.02", country="FR", description="France")
    rate("44", "0.12", country="GB", increment="second", description="United Kingdom")
    fund(organization, 10)
    give(organization, member, "1.52")
    return member


def open_phone(new_context, base, member, *, width=1280, prepare=None, **options):
    context = new_context(locale="en-GB", viewport={"width": width, "height": 900}, **options)
    context.add_init_script(WATCH_VIOLATIONS)
    if prepare is not None:
        prepare(context)
    page = context.new_page()
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, member.user.username)
    page.wait_for_url(re.compile(r"/o/"))
    page.goto(f"{base}/o/{member.organization.slug}/phone/")
    return page, errors


@pytest.mark.e2e
def test_a_member_sees_the_price_of_the_number_they_type(live_server, new_context, caller, calling):
    page, errors = open_phone(new_context, live_server.url, caller)
    expect(page.get_by_role("heading", name="Phone", exact=True)).to_be_visible()
    expect(page.locator("[data-balance=member]")).to_have_text("€1.52")
    page.wait_for_function("() => window.Twilio && window.Twilio.Device")
    assert page.evaluate("typeof Twilio.Device") == "function"
    assert page.evaluate("Twilio.Device.isSupported") is True

    call_button = page.get_by_role("button", name="Call", exact=True)
    expect(call_button).to_be_disabled()
    page.get_by_label("Number to call").fill("+44 20 7946 0000")
    price = page.locator("#phone-price")
    expect(price).to_contain_text("€0.12 a minute")
    expect(price).to_contain_text("You can call for about 12 min 40 s.")
    expect(price).to_contain_text("United Kingdom")
    expect(call_button).to_be_enabled()

    # A number nobody can call: the Call button waits again.
    page.get_by_label("Number to call").fill("12")
    expect(price).to_contain_text("This is not a phone number.")
    expect(call_button).to_be_disabled()

    # The dial pad, from the keyboard: each key is a button.
    page.get_by_label("Number to call").fill("")
    for key in "+33123456789":
        page.locator(f'.dial-key[data-key="{key}"]').focus()
        page.keyboard.press("Enter")
    expect(page.get_by_label("Number to call")).to_have_value("+33123456789")
    expect(price).to_contain_text("€0.02 a minute")
    expect(price).to_contain_text("You can call for about 1 h 16 min.")
    expect(call_button).to_be_enabled()
    page.get_by_role("button", name="Erase the last digit").click()
    expect(page.get_by_label("Number to call")).to_have_value("+3312345678")

    assert page.evaluate("window.cspViolations") == []
    assert errors == []


@pytest.mark.e2e
def test_without_calling_set_up_the_page_prices_numbers(live_server, new_context, caller):
    page, errors = open_phone(new_context, live_server.url, caller)
    expect(page.get_by_text("Calls from the browser are not set up here.")).to_be_visible()
    expect(page.get_by_role("button", name="Call", exact=True)).to_have_count(0)
    page.get_by_label("Number to call").fill("+33 1 23 45 67 89")
    expect(page.locator("#phone-price")).to_contain_text("€0.02 a minute")
    assert page.evaluate("window.cspViolations") == []
    assert errors == []


@pytest.mark.e2e
@pytest.mark.parametrize("width", [1280, 375])
def test_the_page_fits_a_phone_and_reads_well(live_server, new_context, caller, calling, width):
    page, errors = open_phone(new_context, live_server.url, caller, width=width)
    page.get_by_label("Number to call").fill("+44 20 7946 0000")
    expect(page.locator("#phone-price")).to_contain_text("a minute")
    sizes = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1]
    violations = Axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert errors == []


class FakeTwilio:
    """Twilio as the SDK meets it, played in the browser: its signalling WebSocket refuses the
    token (as Twilio does for a key it does not know); its events gateway and its sounds answer
    with nothing. The CSP is checked before Playwright routes a request, so every host the SDK
    reaches must be one the Phone page's policy allows."""

    def __init__(self):
        self.signalling_urls: list[str] = []
        self.messages: list[dict] = []
        self.hosts: set[str] = set()

    def prepare(self, context):
        context.on("request", self._seen)
        context.route("https://*.twilio.com/**", lambda route: route.fulfill(status=204))
        context.route_web_socket(SIGNALLING, self._signal)

    def _seen(self, request):
        host = urlsplit(request.url).hostname
        if host not in ("localhost", "127.0.0.1"):
            self.hosts.add(f"{urlsplit(request.url).scheme}://{host}")

    def _signal(self, socket):
        self.signalling_urls.append(socket.url)

        def answer(message):
            sent = json.loads(message)
            self.messages.append(sent)
            if sent["type"] == "listen":
                error = {"code": 31204, "message": "JWT is invalid"}
                socket.send(
                    json.dumps({"type": "error", "version": "1.6", "payload": {"error": error}})
                )

        socket.on_message(answer)


@pytest.mark.e2e
def test_a_call_asks_for_a_token_and_says_why_it_could_not_start(
    live_server, new_context, caller, calling
):
    twilio = FakeTwilio()
    page, errors = open_phone(new_context, live_server.url, caller, prepare=twilio.prepare)
    page.get_by_label("Number to call").fill("+44 20 7946 0000")
    call_button = page.get_by_role("button", name="Call", exact=True)
    expect(call_button).to_be_enabled()
    call_button.click()

    alert = page.locator("[data-phone-error]")
    expect(alert).to_have_text("The phone could not start. Reload the page and try again.")
    expect(call_button).to_be_enabled()
    expect(page.get_by_role("button", name="Hang up")).to_be_hidden()

    # The SDK sent Twilio the token our server minted for this member, to the default edge.
    assert twilio.signalling_urls == [SIGNALLING]
    listen = next(message for message in twilio.messages if message["type"] == "listen")
    claims = AccessToken.from_jwt(listen["payload"]["token"], key=SECRET).payload
    assert claims["grants"]["identity"] == member_identity(caller)
    assert claims["grants"]["voice"]["outgoing"]["application_sid"] == "AP" + "c" * 32
    assert twilio.hosts <= {"https://sdk.twilio.com", "https://eventgw.twilio.com"}
    assert page.evaluate("window.cspViolations") == []
    assert page.evaluate("window.cspViolations") == []
    # The SDK logs the refusal, and the empty sounds of the fake, but no CSP refusal.
    assert [error for error in errors if "Content Security Policy" in error] == []


@pytest.mark.e2e
def test_the_page_s_policy_lets_the_sdk_open_its_signalling_connection(
    live_server, new_context, caller, calling
):
    """No fake WebSocket this time (Playwright's runs inside the page, where the CSP does not
    look): the browser opens the SDK's real one, through a proxy that answers nobody, so nothing
    leaves the machine. The CSP is checked before the proxy is asked: a host the policy lacked
    would be a violation; allowed, the connection fails and the page says so in words."""
    hosts = FakeTwilio()

    def prepare(context):
        context.on("request", hosts._seen)
        context.route("https://*.twilio.com/**", lambda route: route.fulfill(status=204))

    page, errors = open_phone(
        new_context,
        live_server.url,
        caller,
        prepare=prepare,
        proxy={"server": "http://127.0.0.1:9", "bypass": "localhost,127.0.0.1"},
    )
    page.get_by_label("Number to call").fill("+44 20 7946 0000")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(page.locator("[data-phone-error]")).to_have_text(
        "The connection to the phone service was lost. Check your network.", timeout=20_000
    )
    assert page.evaluate("window.cspViolations") == []
    assert [error for error in errors if "Content Security Policy" in error] == []
