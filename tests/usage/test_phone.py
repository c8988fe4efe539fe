"""The Phone page: every member's, with their balance; the price of the number typed and the
time they can afford (or why they cannot call it); access tokens for the browser phone, minted
only for members allowed to call and only when calling is set up; odd numbers answered with a
message, never a 500."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from twilio.jwt import JwtDecodeError
from twilio.jwt.access_token import AccessToken

from credit.services.caps import member_spending_cap_set
from organizations.roles import Role
from subscriptions.models import MemberFeatures, Plan
from tests.factories import MemberFactory, SubscriptionFactory
from tests.tenancy import snapshot
from tests.usage.support import call, fund, give, rate
from usage.models import IncludedMinutes, Rate
from usage.selectors.allowance import month_start
from usage.services.authorize import member_identity
from usage.services.ingest import usage_records_ingest
from usage.views.phone import duration_text

ACCOUNT_SID = "AC" + "a" * 32
API_KEY_SID = "SK" + "b" * 32
API_KEY_SECRET = "the-api-key-secret-of-the-phone-tests"
TWIML_APP_SID = "AP" + "c" * 32


@pytest.fixture
def calling(settings):
    """Calling from the browser set up, with a made-up Twilio account."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_API_KEY_SID = API_KEY_SID
    settings.TWILIO_API_KEY_SECRET = API_KEY_SECRET
    settings.TWILIO_TWIML_APP_SID = TWIML_APP_SID


@pytest.fixture
def not_set_up(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_API_KEY_SID = ""
    settings.TWILIO_API_KEY_SECRET = ""
    settings.TWILIO_TWIML_APP_SID = ""


@pytest.fixture
def rates(db):
    rate("33", "0.02", country="FR", description="France")
    rate("336", "0.15", country="FR", line_type="mobile", description="France mobile")
    rate("44", "0.12", country="GB", increment="second", description="United Kingdom")
    rate("882", "2.50", country="ZZ", blocked=True, description="Satellite")


def url(org, name: str) -> str:
    return reverse(f"usage:{name}", kwargs={"org_slug": org.slug})


def price(client, org, number: str):
    response = client.get(url(org, "phone-price"), {"number": number})
    assert response.status_code == 200
    return response.content.decode()


# --- The page ------------------------------------------------------------------------------


def test_a_member_sees_their_balance_the_number_field_and_the_phone(org, employee, login, calling):
    fund(org, 10)
    give(org, employee, "7.25")
    response = login(employee).get(url(org, "phone"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "€7.25" in page
    assert 'name="number"' in page
    assert url(org, "phone-price") in page
    assert "vendor/twilio-voice/twilio.min.js" in page
    assert "js/phone.js" in page
    assert "data-phone-call" in page
    assert 'data-calling="on"' in page
    assert url(org, "phone-token") in page


def test_only_the_phone_page_lets_the_browser_reach_twilio(org, employee, login, calling):
    client = login(employee)
    policy = client.get(url(org, "phone"))["Content-Security-Policy"]
    assert "connect-src 'self' wss://voice-js.roaming.twilio.com https://eventgw.twilio.com" in (
        policy
    )
    assert "media-src 'self' mediastream: https://sdk.twilio.com" in policy
    # The SDK is one of our static files: scripts stay as strict as everywhere else.
    assert "script-src 'self';" in policy
    assert "unsafe-eval" not in policy
    assert "microphone=(self)" in client.get(url(org, "phone"))["Permissions-Policy"]
    elsewhere = client.get(reverse("dashboard:my-account", kwargs={"org_slug": org.slug}))
    assert "twilio" not in elsewhere["Content-Security-Policy"]
    assert "connect-src 'self';" in elsewhere["Content-Security-Policy"]


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.FINANCE, Role.MEMBER])
def test_every_member_has_the_page_and_the_menu_leads_to_it(org, login, role):
    member = MemberFactory(organization=org, role=role)
    client = login(member)
    assert client.get(url(org, "phone")).status_code == 200
    my_account = client.get(reverse("dashboard:my-account", kwargs={"org_slug": org.slug}))
    assert my_account.content.decode().count(f'href="{url(org, "phone")}"') == 2


def test_without_calling_set_up_the_page_still_prices_numbers(
    org, employee, login, not_set_up, rates
):
    fund(org, 10)
    give(org, employee, 1)
    client = login(employee)
    page = client.get(url(org, "phone")).content.decode()
    assert "Calls from the browser are not set up here" in page
    assert 'data-calling="off"' in page
    assert "twilio.min.js" not in page
    assert "data-phone-call" not in page
    assert "€0.02 a minute" in price(client, org, "+33 1 23 45 67 89")


def test_a_member_not_allowed_to_call_is_told_on_the_page(org, employee, login, calling, rates):
    MemberFeatures.objects.create(organization=org, member=employee, may_call=False)
    client = login(employee)
    page = client.get(url(org, "phone")).content.decode()
    assert "Your company does not allow you to make calls." in page
    assert "data-phone-call" not in page
    assert "twilio.min.js" not in page
    answer = price(client, org, "+33123456789")
    assert 'data-price-state="not_allowed"' in answer
    assert "data-callable" not in answer


def test_the_page_sent_without_javascript_shows_the_price(org, employee, login, rates):
    fund(org, 10)
    give(org, employee, 1)
    page = login(employee).get(url(org, "phone"), {"number": "+33 1 23 45 67 89"})
    text = page.content.decode()
    assert "€0.02 a minute" in text
    assert "You can call for about 50 min." in text
    assert 'value="+33 1 23 45 67 89"' in text


# --- The price of a number ----------------------------------------------------------------


def test_the_price_per_minute_and_the_time_the_member_can_afford(org, employee, login, rates):
    fund(org, 10)
    # Per second after the first minute at 0.12 a minute: 1.52 buys 760 s.
    give(org, employee, "1.52")
    answer = price(login(employee), org, "+44 20 7946 0000")
    assert "+44 20 7946 0000" in answer
    assert "United Kingdom" in answer
    assert "€0.12 a minute" in answer
    assert "You can call for about 12 min 40 s." in answer
    assert 'data-call-time="760"' in answer
    assert 'data-number="+442079460000"' in answer
    assert "data-callable" in answer


def test_a_price_keeps_the_rate_s_own_digits(org, employee, login):
    rate("49", "0.0125", currency="EUR", country="DE", description="Germany")
    fund(org, 10)
    give(org, employee, 1)
    assert "€0.0125 a minute" in price(login(employee), org, "+49 30 123456")


def test_a_national_number_is_read_in_the_organization_s_country(org, employee, login, rates):
    fund(org, 10)
    give(org, employee, 1)
    answer = price(login(employee), org, "06 12 34 56 78")
    assert 'data-number="+33612345678"' in answer
    assert "€0.15 a minute" in answer
    assert "France mobile" in answer


def test_the_monthly_limit_left_is_shown(org, admin, employee, login, rates):
    fund(org, 10)
    give(org, employee, 10)
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap="0.50")
    answer = price(login(employee), org, "+33123456789")
    assert "You can call for about 25 min." in answer
    assert "€0.50 left of your monthly spending limit." in answer


def test_the_longest_call_is_said_as_such(org, employee, login, rates):
    fund(org, 1000)
    give(org, employee, 1000)
    answer = price(login(employee), org, "+33123456789")
    assert "You can call for up to 4 h 0 min, the longest call there is." in answer


def test_minutes_of_a_subscription_come_first(org, employee, login, rates):
    subscription = SubscriptionFactory(
        organization=org, member=employee, plan=Plan.objects.get(code="europe-400")
    )
    client = login(employee)
    answer = price(client, org, "+33123456789")
    assert "You can call for up to 4 h 0 min" in answer
    assert "All of it from your subscription's minutes." in answer

    # 395 of the 400 minutes used: 5 included, then 1.00 of credit at 0.02 a minute.
    IncludedMinutes.objects.create(
        organization=org,
        subscription=subscription,
        month=month_start(org, timezone.now()),
        used_seconds=395 * 60,
    )
    fund(org, 10)
    give(org, employee, 1)
    answer = price(client, org, "+33123456789")
    assert "You can call for about 55 min." in answer
    assert "5 min of it from your subscription's minutes." in answer


@pytest.mark.parametrize(
    ("number", "reason", "message"),
    [
        ("+33123456789", "no_credit", "You do not have enough credit."),
        ("+882161234567", "blocked", "Calls and messages to this destination are blocked."),
        ("+81312345678", "no_rate", "This number cannot be reached from here."),
    ],
)
def test_why_a_number_cannot_be_called(org, employee, login, rates, number, reason, message):
    if reason == "no_rate":
        # No price in euros for this number, whatever the sample rate table holds.
        digits = number.lstrip("+")
        prefixes = [digits[:length] for length in range(1, len(digits) + 1)]
        Rate.objects.filter(currency="EUR", prefix__in=prefixes).delete()
    answer = price(login(employee), org, number)
    assert f'data-price-state="{reason}"' in answer
    assert message in answer
    assert "data-callable" not in answer


def test_a_member_whose_monthly_limit_is_spent_is_told(org, admin, employee, login, rates):
    fund(org, 10)
    give(org, employee, 10)
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap="0.50")
    usage_records_ingest(
        organization=org, records=[call(employee, "+33123456789", seconds=25 * 60)]
    )
    answer = price(login(employee), org, "+33123456789")
    assert 'data-price-state="cap_reached"' in answer
    assert "You have reached your monthly spending limit." in answer


ODD_NUMBERS = [
    ("a\x00b", "Null characters are not allowed."),
    ("\u202e33123456789\u202c", "Type only digits, spaces and + for the country code."),
    ("مرحبا بالعالم", "This is not a phone number."),
    ("🙂👍🏽‍🧑‍💻", "Type only digits, spaces and + for the country code."),
    ("🙂", "This is not a phone number."),
    ("9" * 1000, "Ensure this value has at most 40 characters"),
    ("+", "This is not a phone number."),
    ("00", "This is not a phone number."),
    ("-1", "This is not a phone number."),
    ("1e309", "This is not a phone number."),
    ("<script>alert(1)</script>", "This is not a phone number."),
]


@pytest.mark.parametrize(("number", "message"), ODD_NUMBERS)
def test_odd_numbers_get_a_message_and_change_nothing(org, employee, login, rates, number, message):
    fund(org, 10)
    give(org, employee, 1)
    client = login(employee)
    before = snapshot(org)
    answer = price(client, org, number)
    assert 'data-price-state="invalid"' in answer
    assert message in answer
    assert "<script>alert" not in answer
    page = client.get(url(org, "phone"), {"number": number})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert snapshot(org) == before


def test_no_number_yet_asks_for_one(org, employee, login):
    client = login(employee)
    for query in ({}, {"number": ""}, {"number": "   "}, {"zz": "1"}):
        answer = client.get(url(org, "phone-price"), query)
        assert answer.status_code == 200
        assert 'data-price-state="empty"' in answer.content.decode()


# --- Access tokens ---------------------------------------------------------------------------


def test_a_member_allowed_to_call_gets_a_ten_minute_token(org, employee, login, calling):
    response = login(employee).post(url(org, "phone-token"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["identity"] == member_identity(employee) == f"skypemgr-{org.pk}-{employee.pk}"
    assert body["expires_in"] == 600

    # Verified with the API key's secret, as Twilio verifies it.
    decoded = AccessToken.from_jwt(body["token"], key=API_KEY_SECRET)
    claims = decoded.payload
    assert claims["iss"] == API_KEY_SID
    assert claims["sub"] == ACCOUNT_SID
    assert claims["exp"] - claims["nbf"] == 600
    assert claims["grants"]["identity"] == body["identity"]
    assert claims["grants"]["voice"] == {"outgoing": {"application_sid": TWIML_APP_SID}}
    assert decoded.headers["cty"] == "twilio-fpa;v=1"
    with pytest.raises(JwtDecodeError):
        AccessToken.from_jwt(body["token"], key="another-secret-just-as-long-as-the-first")


def test_a_member_not_allowed_to_call_gets_no_token(org, employee, login, calling):
    MemberFeatures.objects.create(organization=org, member=employee, may_call=False)
    response = login(employee).post(url(org, "phone-token"))
    assert response.status_code == 403
    assert response.json() == {
        "error": "not_allowed",
        "message": "Your company does not allow you to make calls.",
    }


def test_a_member_whose_calls_are_allowed_again_gets_one(org, employee, login, calling):
    MemberFeatures.objects.create(organization=org, member=employee, may_call=True)
    assert login(employee).post(url(org, "phone-token")).status_code == 200


@pytest.mark.parametrize(
    "missing",
    ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET", "TWILIO_TWIML_APP_SID"],
)
def test_without_calling_set_up_there_is_no_token(org, employee, login, calling, settings, missing):
    setattr(settings, missing, "")
    response = login(employee).post(url(org, "phone-token"))
    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"
    assert "not set up" in response.json()["message"]


def test_a_token_is_asked_for_with_a_post_and_the_csrf_token(org, employee, calling):
    client = Client(enforce_csrf_checks=True)
    client.force_login(employee.user)
    assert client.get(url(org, "phone-token")).status_code == 405
    assert client.post(url(org, "phone-token")).status_code == 403
    client.get(url(org, "phone"))
    csrf = client.cookies["csrftoken"].value
    answer = client.post(url(org, "phone-token"), HTTP_X_CSRFTOKEN=csrf)
    assert answer.status_code == 200
    assert answer.json()["token"]


def test_an_outsider_gets_no_token_and_no_page(org, outsider, login, calling):
    client = login(outsider)
    assert client.post(url(org, "phone-token")).status_code == 404
    assert client.get(url(org, "phone")).status_code == 404
    assert client.get(url(org, "phone-price"), {"number": "+33123456789"}).status_code == 404


# --- Words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (760, "12 min 40 s"),
        (3000, "50 min"),
        (3661, "1 h 1 min"),
        (14_400, "4 h 0 min"),
    ],
)
def test_durations_read_like_a_person_would_say_them(seconds, text):
    assert duration_text(seconds) == text
