"""The Reports overview shows what the ledger and the rollups say, for data made with the real
services: balances, spend against last year, the forecast, renewals, members near their cap,
recent activity and alerts; it is read by owners, admins and finance, refreshes through its
live part, and costs the same queries for 3 members as for 40."""

import datetime
import re
from datetime import UTC
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from credit.models import CreditSettings
from credit.selectors.ledger import organization_balances
from credit.services.allocation import credit_allocate, credit_take_back
from credit.services.attention import purchase_attention_record
from credit.services.caps import member_spending_cap_set
from dashboard.selectors.activity import LARGE_CALL_DEFAULT_MINIMUM
from dashboard.selectors.overview import overview_build, same_day_last_year
from organizations.roles import Role
from subscriptions.selectors.calendar import renewals_due_until
from tests.credit.rules_support import bought, fund
from tests.factories import MemberFactory, OrganizationFactory, PurchaseFactory, SubscriptionFactory
from tests.subscriptions.renewals_support import subscribe
from tests.usage.support import call, rate
from usage.models import UsageAlert
from usage.services.ingest import usage_records_ingest

# Noon in Paris, the organizations' time zone.
NOW = datetime.datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _mid_march(time_machine, db):
    time_machine.move_to(NOW, tick=False)
    rate("33", "0.02", country="FR")


def url(org, live=False) -> str:
    return f"/o/{org.slug}/reports/{'live/' if live else ''}"


def figure(html: str, name: str) -> str:
    """The text of the element marked data-figure="name"."""
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, f"no figure {name}"
    return found.group(1).strip()


def main_of(response) -> str:
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


def paris(text: str) -> datetime.datetime:
    import zoneinfo

    return datetime.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))


@pytest.fixture
def spend(django_capture_on_commit_callbacks):
    """Record calls costing what is asked, as a call-record API would send them, and run what
    their commit schedules (the usage alerts, eagerly)."""

    def _spend(org, *costs_of_members, at=None):
        records = [
            call(member, cost=Decimal(str(cost)), started_at=at or timezone.now())
            for member, cost in costs_of_members
        ]
        with django_capture_on_commit_callbacks(execute=True):
            outcomes = usage_records_ingest(organization=org, records=records)
        assert {outcome.status for outcome in outcomes} == {"created"}

    return _spend


def allocate(org, actor, members, amount, key):
    credit_allocate(
        organization=org, actor=actor, members=members, amount=amount, idempotency_key=key
    )


# --- Balances and forecast --------------------------------------------------------------------


def test_balances_are_the_ledgers(org, owner, finance, login, spend):
    alice, bob = MemberFactory(organization=org), MemberFactory(organization=org)
    bought(org, owner, 100)
    allocate(org, owner, [alice], 40, "a")
    # Bob holds nothing: the company pays his call until it is empty, then it is owed.
    spend(org, (bob, 70))

    response = login(finance).get(url(org))

    assert response.status_code == 200
    balances = organization_balances(org)
    assert balances["company"] == Money(0, "EUR")
    assert balances["members"] == Money(40, "EUR")
    assert balances["owed"] == Money(10, "EUR")
    page = main_of(response)
    assert figure(page, "company") == "€0.00"
    assert figure(page, "members") == "€40.00"
    assert figure(page, "owed") == "€10.00"
    assert 'data-alert="owed"' in page
    assert response.context["overview"].balances == balances


def test_forecast_at_the_rate_of_the_last_30_days(org, owner, finance, login, spend):
    alice = MemberFactory(organization=org)
    bought(org, owner, 500)
    allocate(org, owner, [alice], 100, "a")
    # 60 in the 30 days before today: 2 a day. Today's spend and older spend do not count.
    spend(org, (alice, 20), at=paris("2026-02-13 10:00"))
    spend(org, (alice, 40), at=paris("2026-03-14 10:00"))
    spend(org, (alice, 5), at=paris("2026-03-15 09:00"))
    spend(org, (alice, 30), at=paris("2026-02-12 10:00"))

    forecast = overview_build(organization=org).forecast

    # The company holds 400, Alice 100 - 95 = 5.
    assert forecast.available == Money(405, "EUR")
    assert forecast.daily_spend == Money(2, "EUR")
    assert forecast.days_left == 202
    assert forecast.runs_out_on == datetime.date(2026, 10, 3)
    assert not forecast.running_low
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "forecast") == "202 days"
    assert "At €2.00 a day, the average of the last 30 days: until Oct. 3, 2026." in page
    assert 'data-alert="forecast"' not in page


def test_forecast_running_low_is_an_alert(org, owner, finance, login, spend):
    alice = MemberFactory(organization=org)
    bought(org, owner, 100)
    allocate(org, owner, [alice], 100, "a")
    spend(org, (alice, 90), at=paris("2026-03-10 10:00"))

    page = main_of(login(finance).get(url(org)))

    # 10 left at 3 a day.
    assert figure(page, "forecast") == "3 days"
    assert "the credit runs out in 3 days" in page
    assert 'data-alert="forecast"' in page


def test_no_spend_no_forecast(org, owner, finance, login):
    bought(org, owner, 100)
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "forecast") == "—"
    assert "No spending in the last 30 days to forecast from." in page


# --- Spend against last year -------------------------------------------------------------------


def test_spend_today_month_and_year_against_the_same_days_last_year(
    org, owner, finance, login, spend
):
    alice = MemberFactory(organization=org)
    fund(org, 1000)
    allocate(org, owner, [alice], 1000, "a")
    for at, cost in (
        ("2025-01-10 10:00", 3),  # last year, a whole month before March
        ("2025-03-10 10:00", 2),  # last year's March, before the 15th
        ("2025-03-15 23:30", 1),  # the same day last year (late evening in Paris)
        ("2025-03-16 00:30", 50),  # the day after, last year: counted nowhere
        ("2025-12-31 10:00", 70),  # the rest of last year: counted nowhere
        ("2026-02-01 10:00", 4),  # this year
        ("2026-03-01 00:15", 5),  # this month
        ("2026-03-15 09:00", 6),  # today
    ):
        spend(org, (alice, cost), at=paris(at))

    spent = overview_build(organization=org).spend

    assert (spent.day.current, spent.day.previous) == (Money(6, "EUR"), Money(1, "EUR"))
    assert (spent.month.current, spent.month.previous) == (Money(11, "EUR"), Money(3, "EUR"))
    assert (spent.year.current, spent.year.previous) == (Money(15, "EUR"), Money(6, "EUR"))
    assert spent.day.change == 5
    assert spent.year.change == Decimal("1.5")
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "today") == "€6.00"
    assert figure(page, "month") == "€11.00"
    assert figure(page, "year") == "€15.00"
    assert "(+500% on last year)" in page
    assert "(+267% on last year)" in page
    assert "(+150% on last year)" in page
    assert "Same days last year: €6.00" in page


def test_features_count_as_spend_and_a_drop_reads_with_a_minus_sign(
    org, owner, finance, login, spend
):
    fund(org, 1000)
    alice = MemberFactory(organization=org)
    allocate(org, owner, [alice], 100, "a")
    spend(org, (alice, 80), at=paris("2025-02-20 10:00"))
    subscription = subscribe(org, owner, paris("2026-02-20 10:00"), member=alice)
    charge = subscription.plan.prices.get(currency="EUR", period_months=1).amount

    spent = overview_build(organization=org).spend

    assert spent.year.current == Money(charge, "EUR")
    assert spent.year.previous == Money(80, "EUR")
    page = main_of(login(finance).get(url(org)))
    assert f"\N{MINUS SIGN}{round((1 - charge / 80) * 100)}% on last year" in page


def test_nothing_last_year_shows_no_change(org, owner, finance, login, spend):
    alice = MemberFactory(organization=org)
    bought(org, owner, 100)
    allocate(org, owner, [alice], 100, "a")
    spend(org, (alice, 6))
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "today") == "€6.00"
    assert "on last year" not in page


@pytest.mark.parametrize(
    ("day", "last_year"),
    [
        (datetime.date(2028, 2, 29), datetime.date(2027, 2, 28)),
        (datetime.date(2027, 2, 28), datetime.date(2026, 2, 28)),
        (datetime.date(2027, 1, 1), datetime.date(2026, 1, 1)),
        (datetime.date(2026, 12, 31), datetime.date(2025, 12, 31)),
    ],
)
def test_same_day_last_year(day, last_year):
    assert same_day_last_year(day) == last_year


def test_a_leap_day_compares_with_the_whole_of_last_february(
    org, owner, finance, time_machine, spend
):
    time_machine.move_to(datetime.datetime(2028, 2, 29, 11, 0, tzinfo=UTC), tick=False)
    alice = MemberFactory(organization=org)
    bought(org, owner, 100)
    allocate(org, owner, [alice], 100, "a")
    spend(org, (alice, 2), at=paris("2027-02-28 12:00"))
    spend(org, (alice, 3), at=paris("2027-02-01 12:00"))
    spend(org, (alice, 4), at=paris("2028-02-29 10:00"))

    spent = overview_build(organization=org).spend

    assert spent.day.previous == Money(2, "EUR")
    assert spent.month.previous == Money(5, "EUR")
    assert spent.year.previous == Money(5, "EUR")
    assert spent.year.current == Money(4, "EUR")


# --- Renewals and automatic recharge -----------------------------------------------------------


def test_renewals_of_the_next_30_days(org, owner, finance, login):
    bought(org, owner, 100)
    for days_ago in (2, 10):
        subscribe(org, owner, timezone.now() - datetime.timedelta(days=days_ago))
    # Renews in about 60 days: not counted.
    SubscriptionFactory(organization=org, period_end=timezone.now() + datetime.timedelta(days=60))

    renewals = overview_build(organization=org).renewals

    expected = renewals_due_until(
        organization=org, day=datetime.date(2026, 3, 15) + datetime.timedelta(days=30)
    )
    assert (renewals.total, renewals.count) == expected
    assert renewals.count == 2
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "renewals") == str(renewals.total)
    assert "2 features renew." in page
    assert "Renewals in the next 30 days" in page
    assert f'href="/o/{org.slug}/features/calendar/"' in page


def test_renewals_the_balance_cannot_pay_are_an_alert(org, owner, finance, login):
    bought(org, owner, 100)
    subscription = subscribe(org, owner, timezone.now() - datetime.timedelta(days=3))
    price = subscription.plan.prices.get(currency="EUR", period_months=1).amount
    member = MemberFactory(organization=org)
    allocate(org, owner, [member], Money(100, "EUR") - Money(price, "EUR") - Money(1, "EUR"), "b")

    page = main_of(login(finance).get(url(org)))

    assert 'data-alert="renewals"' in page
    assert "the company balance is short by €" in page


def test_automatic_recharge_status(org, owner, finance, login):
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "auto-recharge") == "Off"
    assert "Credit is bought by hand." in page

    CreditSettings.objects.for_org(org).update(
        auto_recharge_enabled=True, auto_recharge_threshold=20, auto_recharge_amount=100
    )
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "auto-recharge") == "On"
    assert "Buys €100.00 when the company balance falls below €20.00." in page

    CreditSettings.objects.for_org(org).update(
        auto_recharge_enabled=False, auto_recharge_disabled_reason="Your card was declined."
    )
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "auto-recharge") == "Off"
    assert "Turned off after a refused charge." in page
    assert 'data-alert="auto-recharge"' in page
    assert "Your card was declined." in page


# --- Members near their cap -------------------------------------------------------------------


def capped(org, owner, cap, name):
    member = MemberFactory(organization=org, display_name=name)
    member_spending_cap_set(organization=org, actor=owner, member=member, cap=cap)
    return member


def test_members_at_or_near_their_cap(org, owner, finance, login, spend):
    fund(org, 1000)
    seventy = capped(org, owner, 10, "Seventy")
    eighty = capped(org, owner, 10, "Eighty")
    hundred = capped(org, owner, 10, "Hundred")
    over = capped(org, owner, 10, "Over")
    last_month = capped(org, owner, 10, "Last month")
    uncapped = MemberFactory(organization=org, display_name="No cap")
    people = [seventy, eighty, hundred, over, last_month, uncapped]
    allocate(org, owner, people, 100, "a")
    spend(org, (seventy, 7), (eighty, 8), (hundred, 10), (over, 12), (uncapped, 50))
    spend(org, (last_month, 10), at=paris("2026-02-28 22:00"))

    near = overview_build(organization=org).near_cap

    assert [(line.member, line.spent.amount, line.at_cap) for line in near.lines] == [
        (over, 12, True),
        (hundred, 10, True),
        (eighty, 8, False),
    ]
    assert near.count == 3
    page = main_of(login(finance).get(url(org)))
    assert figure(page, "near-cap-count") == "3"
    assert "€12.00 of €10.00 (120%) used this month" in page
    assert "€8.00 of €10.00 (80%) used this month" in page
    assert f'href="/o/{org.slug}/members/{over.pk}/"' in page
    assert "Seventy" not in page.split('data-section="near-cap"')[1].split("</section>")[0]


def test_ten_members_near_their_cap_are_shown_of_all(org, owner, finance, login, spend):
    fund(org, 1000)
    people = [capped(org, owner, 10, f"Member {index:02d}") for index in range(12)]
    allocate(org, owner, people, 20, "a")
    spend(org, *[(member, 9) for member in people])

    near = overview_build(organization=org).near_cap

    assert len(near.lines) == 10
    assert near.count == 12
    page = main_of(login(finance).get(url(org)))
    assert "The closest 10 of 12 members." in page


# --- Activity ----------------------------------------------------------------------------------


def test_recent_activity_newest_first(org, owner, admin, finance, login, spend, time_machine):
    alice, bob, cat = (MemberFactory(organization=org, display_name=n) for n in "ABC")

    def at(text):
        time_machine.move_to(paris(text), tick=False)

    at("2026-03-10 09:00")
    bought(org, owner, 500)
    at("2026-03-11 09:00")
    allocate(org, admin, [alice, bob, cat], 10, "three")
    at("2026-03-12 09:00")
    credit_take_back(organization=org, actor=admin, members=[bob], amount=4, idempotency_key="back")
    at("2026-03-13 09:00")
    subscription = subscribe(org, owner, paris("2026-03-13 09:00"), member=alice)
    at("2026-03-14 09:00")
    # Three ordinary calls and a large one (at least 5: ten times the median is 1.50).
    spend(org, (alice, "0.10"), (bob, "0.15"), (cat, "0.20"), at=paris("2026-03-14 08:00"))
    spend(org, (cat, 6), at=paris("2026-03-14 08:30"))
    at("2026-03-15 12:00")

    feed = overview_build(organization=org).activity

    price = subscription.plan.prices.get(currency="EUR", period_months=1).amount
    assert feed.large_call == Money(LARGE_CALL_DEFAULT_MINIMUM, "EUR")
    assert [(item.kind, item.amount.amount, item.count) for item in feed.items] == [
        ("call", 6, 1),
        ("subscription_charge", price, 1),
        ("take_back", 4, 1),
        ("allocation", 30, 3),
        ("purchase", 500, 1),
    ]
    sentences = [str(item.sentence) for item in feed.items]
    # Names are set apart (Unicode isolates), so that one in Arabic keeps the sentence whole.
    assert sentences[0] == "Large call by \u2068C\u2069"
    assert sentences[1].startswith("Feature charged: ")
    assert sentences[2:] == [
        "Credit taken back from \u2068B\u2069",
        "Credit allocated to 3 members",
        "Credit bought",
    ]
    page = main_of(login(finance).get(url(org)))
    activity = page.split('data-section="activity"')[1]
    assert activity.index("Large call by \u2068C") < activity.index("Credit bought")
    assert f"by <bdi>{admin}</bdi>" in activity
    assert "France · 1:00" in activity


def test_a_large_allocation_is_one_line_with_its_total(org, owner, finance, login):
    fund(org, 10000)
    people = [MemberFactory(organization=org) for _ in range(320)]
    allocate(org, owner, people, 2, "everyone")

    feed = overview_build(organization=org).activity

    assert [(item.kind, item.count, item.amount) for item in feed.items] == [
        ("allocation", 320, Money(640, "EUR")),
        ("purchase", 1, Money(10000, "EUR")),
    ]


def test_large_calls_are_measured_against_the_median(org, owner, finance, spend):
    fund(org, 1000)
    alice = MemberFactory(organization=org)
    allocate(org, owner, [alice], 500, "a")
    spend(org, *[(alice, 2) for _ in range(5)], at=paris("2026-03-14 08:00"))
    spend(org, (alice, 19), at=paris("2026-03-14 09:00"))
    spend(org, (alice, 20), at=paris("2026-03-14 10:00"))

    feed = overview_build(organization=org).activity

    assert feed.large_call == Money(20, "EUR")
    assert [(item.kind, item.amount.amount) for item in feed.items if item.is_call] == [
        ("call", 20)
    ]


# --- Alerts ------------------------------------------------------------------------------------


def test_alerts_usage_payments_and_low_balance(org, owner, finance, login, spend):
    bought(org, owner, 100)
    alice = capped(org, owner, 10, "Alice Capped")
    allocate(org, owner, [alice], 50, "a")
    spend(org, (alice, 8))
    purchase = PurchaseFactory(organization=org, number=f"T-{org.pk}")
    purchase_attention_record(purchase=purchase, problem="amount", reason="Paid 90, not 100.")
    CreditSettings.objects.for_org(org).update(low_balance_warning=60)

    overview = overview_build(organization=org)

    [usage_alert] = overview.alerts.usage
    assert (usage_alert.member, usage_alert.kind) == (alice, UsageAlert.Kind.CAP_80)
    assert overview.alerts.attention == [purchase]
    assert overview.alerts.low_balance == Money(60, "EUR")
    page = main_of(login(finance).get(url(org)))
    assert "Alice Capped</a>:\n" in page or "Alice Capped</a>:" in page
    assert "80 percent of the monthly cap" in page
    assert f"A payment for purchase {purchase.number} could not be credited." in page
    assert "Paid 90, not 100." not in page, "the reason is platform staff's"
    assert "The company balance is below €60.00" in page


def test_no_alerts_no_alert_section(org, owner, finance, login):
    bought(org, owner, 100)
    page = main_of(login(finance).get(url(org)))
    assert 'data-section="alerts"' not in page


# --- Who sees it, and the live part ------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.FINANCE])
def test_staff_read_the_overview(org, login, role):
    member = MemberFactory(organization=org, role=role)
    for live in (False, True):
        assert login(member).get(url(org, live)).status_code == 200


def test_members_are_refused(org, employee, login):
    for live in (False, True):
        assert login(employee).get(url(org, live)).status_code == 403


def test_another_organization_cannot_see_it(org, outsider, login):
    assert login(outsider).get(url(org)).status_code == 404


def test_the_live_part_is_a_fragment_with_the_same_figures(org, owner, finance, login):
    bought(org, owner, 123)
    response = login(finance).get(url(org, live=True))
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="overview-live">')
    assert "<html" not in html
    assert "<nav" not in html
    assert figure(html, "company") == "€123.00"


def test_the_page_polls_its_live_part_and_has_the_reports_tabs(org, finance, login):
    page = main_of(login(finance).get(url(org)))
    assert f'hx-get="/o/{org.slug}/reports/live/"' in page
    assert 'hx-trigger="every 5s"' in page
    assert 'hx-select=".overview-live"' in page
    tabs = page.split('aria-label="Reports"')[1].split("</nav>")[0]
    assert f'href="/o/{org.slug}/reports/"' in tabs
    assert 'aria-current="page">Overview<' in tabs


def test_the_page_reads_in_french(org, owner, finance, login, spend):
    alice = MemberFactory(organization=org)
    fund(org, 1500)
    allocate(org, owner, [alice], "100.5", "a")
    client = login(finance)
    client.cookies["django_language"] = "fr"
    page = main_of(client.get(url(org)))
    assert figure(page, "members") == "100,50\N{NO-BREAK SPACE}€"
    assert figure(page, "company").replace("\N{NARROW NO-BREAK SPACE}", " ") in (
        "1 399,50\N{NO-BREAK SPACE}€",
    )
    assert "Renouvellements d'ici 30 jours" in page
    # La recharge: feminine.
    assert figure(page, "auto-recharge") == "Désactivée"


# --- Queries ----------------------------------------------------------------------------------


def populate(org, owner, count, spend):
    """`count` members with credit, a cap they are near, a call, a usage alert and a feature
    to renew; and purchases, one of which needs attention."""
    people = [MemberFactory(organization=org) for _ in range(count)]
    fund(org, 100 * count)
    allocate(org, owner, people, 20, "everyone")
    for member in people:
        member_spending_cap_set(organization=org, actor=owner, member=member, cap=10)
        SubscriptionFactory(organization=org, member=member)
    spend(org, *[(member, 9) for member in people])
    spend(org, *[(member, "0.5") for member in people], at=paris("2025-03-01 10:00"))
    purchase = PurchaseFactory(organization=org, number=f"T-{org.pk}")
    purchase_attention_record(purchase=purchase, problem="amount", reason="Paid less.")
    assert UsageAlert.objects.for_org(org).count() == count


# Measured: 4 to find the visitor, the organization and their membership; 13 for the overview
# (the activity feed: the postings, then their first transfers);
# 3 for the layout's menus (skipped for an htmx poll, which draws no layout).
PAGE_QUERIES = 20
POLL_QUERIES = 17


def queries_of(client, path, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_members_or_records(org, owner, finance, login, spend):
    big = OrganizationFactory()
    big_owner = MemberFactory(organization=big, role=Role.OWNER)
    big_finance = MemberFactory(organization=big, role=Role.FINANCE)
    populate(org, owner, 3, spend)
    populate(big, big_owner, 40, spend)
    small_client, big_client = login(finance), login(big_finance)
    # A first request fills what is cached per process (translations, the role matrix).
    small_client.get(url(org))
    for path, headers, most in (
        ("", {}, PAGE_QUERIES),
        ("live/", {"HX-Request": "true"}, POLL_QUERIES),
    ):
        small = queries_of(small_client, url(org) + path, **headers)
        large = queries_of(big_client, url(big) + path, **headers)
        assert small == large <= most


def test_the_overview_alone_is_thirteen_queries(org, owner, spend, django_assert_max_num_queries):
    populate(org, owner, 40, spend)
    with django_assert_max_num_queries(13):
        overview_build(organization=org)


def test_the_home_leads_to_the_reports(org, finance, login):
    page = main_of(login(finance).get(f"/o/{org.slug}/"))
    assert f'href="/o/{org.slug}/reports/"' in page


def test_amounts_in_the_currencys_own_digits(login, spend):
    yen = OrganizationFactory(currency="JPY", country="JP", time_zone="Asia/Tokyo")
    boss = MemberFactory(organization=yen, role=Role.OWNER)
    alice = MemberFactory(organization=yen)
    fund(yen, 20000)
    allocate(yen, boss, [alice], 1500, "a")
    spend(yen, (alice, 120))
    page = main_of(login(boss).get(url(yen)))
    assert figure(page, "company") == "¥18,500"
    assert figure(page, "members") == "¥1,380"
    assert figure(page, "today") == "¥120"
    # Ten times the median call, above the minimum of ¥500.
    assert "calls of ¥1,200 or more" in page
