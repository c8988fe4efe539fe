"""The renewal calendar: weeks of the organization's time zone (Monday to Sunday), totals at
the current catalog price of the next period, ending subscriptions shown and not counted, the
company balance projected week by week, and the same few queries whatever the number of rows."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import strip_tags
from djmoney.money import Money

from organizations.scoping import tenant_scope
from subscriptions.models import PlanPrice, Subscription
from subscriptions.selectors.calendar import prices_for, renewal_calendar
from tests.credit.rules_support import bought
from tests.factories import MemberFactory
from tests.subscriptions.calendar_support import catalog, due, local, plan  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

# A Wednesday in Paris; that week runs from Monday March 3rd to Sunday March 9th 2025.
WEDNESDAY = (2025, 3, 5, 10, 0)
D = datetime.date


def eur(value) -> Money:
    return Money(Decimal(str(value)), "EUR")


def calendar_of(org, days=30):
    with tenant_scope(org):
        return renewal_calendar(organization=org, days=days)


def text_of(response) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", strip_tags(response.content.decode()))


@pytest.fixture
def people(org):
    return MemberFactory.create_batch(4, organization=org)


def test_sunday_and_monday_fall_in_their_own_weeks_in_the_organization_time(org, people):
    """Midnight starting Monday the 10th in Paris is still Sunday the 9th in UTC: the renewal
    belongs to the week of the 10th all the same; Sunday's belongs to the week of the 3rd."""
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(org, people[0], D(2025, 3, 9))
        monday = due(org, people[1], D(2025, 3, 10))
        assert monday.period_end.astimezone(datetime.UTC).date() == D(2025, 3, 9)
        weeks = calendar_of(org).weeks
    assert [week.start for week in weeks[:3]] == [D(2025, 3, 3), D(2025, 3, 10), D(2025, 3, 17)]
    assert weeks[0].end == D(2025, 3, 9)
    assert (weeks[0].renewing, weeks[0].total) == (1, eur("2.99"))
    assert (weeks[1].renewing, weeks[1].total) == (1, eur("2.99"))
    assert weeks[2].renewing == 0


def test_the_window_holds_the_weeks_up_to_its_last_day(org, people):
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(org, people[0], D(2025, 4, 4))  # day 30
        due(org, people[1], D(2025, 4, 5))  # day 31: in the 60-day window only
        thirty, sixty = calendar_of(org, 30), calendar_of(org, 60)
    assert thirty.until == D(2025, 4, 4)
    assert thirty.weeks[-1].start == D(2025, 3, 31)
    assert thirty.renewing == 1
    assert sixty.renewing == 2
    assert sixty.weeks[-1].start == _monday(D(2025, 5, 4))


def _monday(day):
    return day - datetime.timedelta(days=day.weekday())


def test_amounts_are_todays_catalog_price_of_the_next_period(org, people):
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(org, people[0], D(2025, 3, 12), months=1)
        due(org, people[1], D(2025, 3, 12), months=1, next_months=12)
        due(org, people[2], D(2025, 3, 13), months=3)
        PlanPrice.objects.filter(plan=plan(), currency="EUR", period_months=3).update(
            amount=Decimal("9.00")
        )
        week = calendar_of(org).weeks[1]
    assert week.renewing == 3
    assert week.total == eur("2.99") + eur("29.99") + eur("9.00")


def test_ending_subscriptions_are_shown_and_not_counted(org, owner, people, login):
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        bought(org, owner, 100)
        due(org, people[0], D(2025, 3, 12))
        due(org, people[1], D(2025, 3, 12), auto_renew=False)
        due(org, people[2], D(2025, 3, 13), cancel_at_period_end=True)
        due(org, people[3], D(2025, 3, 13), status=Subscription.Status.CANCELLED)
        week = calendar_of(org).weeks[1]
        response = login(owner).get(f"/o/{org.slug}/features/calendar/")
    assert (week.renewing, week.ending, week.total) == (1, 2, eur("2.99"))
    assert response.status_code == 200
    text = text_of(response)
    assert "Ends: auto-renew off" in text
    assert "Ends: cancelled" in text
    assert str(people[3]) not in text
    assert str(people[0]) in text


def test_a_plan_without_a_price_in_the_currency_is_flagged_not_counted(org, people):
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(org, people[0], D(2025, 3, 12))
        PlanPrice.objects.filter(plan=plan(), currency="EUR", period_months=1).delete()
        week = calendar_of(org).weeks[1]
    assert (week.renewing, week.unpriced, week.total) == (0, 1, eur(0))


def test_an_overdue_renewal_counts_as_due_now(org, people):
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(org, people[0], D(2025, 2, 20), status=Subscription.Status.PAST_DUE)
        weeks = calendar_of(org).weeks
    assert weeks[0].start == D(2025, 3, 3)
    assert (weeks[0].renewing, weeks[0].total) == (1, eur("2.99"))


def test_the_projected_balance_falls_week_by_week_and_says_when_it_goes_below_zero(
    org, owner, people, login
):
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        bought(org, owner, 35)
        due(org, people[0], D(2025, 3, 7), months=12)  # 29.99
        due(org, people[1], D(2025, 3, 11))  # 2.99
        due(org, people[2], D(2025, 3, 18), months=3)  # 8.49
        plan_ = calendar_of(org)
        response = login(owner).get(f"/o/{org.slug}/features/calendar/")
    balances = [week.balance_after for week in plan_.weeks[:4]]
    assert plan_.balance == eur(35)
    assert balances == [eur("5.01"), eur("2.02"), eur("-6.47"), eur("-6.47")]
    assert plan_.first_short_week.start == D(2025, 3, 17)
    text = text_of(response)
    assert "The company balance would be below zero after the week of March 17, 2025" in text
    assert f'href="/o/{org.slug}/credit/buy/"' in response.content.decode()
    assert f'href="/o/{org.slug}/credit/auto-recharge/"' in response.content.decode()


def test_no_warning_while_the_balance_covers_the_window(org, owner, people, login):
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        bought(org, owner, 100)
        due(org, people[0], D(2025, 3, 11))
        response = login(owner).get(f"/o/{org.slug}/features/calendar/?days=90")
    assert response.status_code == 200
    assert "below zero" not in text_of(response)
    assert response.context["calendar"].days == 90


def test_a_week_is_chosen_in_the_query_string_and_odd_values_fall_back(org, owner, people, login):
    client = login(owner)
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(org, people[0], D(2025, 3, 11))
        due(org, people[1], D(2025, 3, 19))
        chosen = client.get(f"/o/{org.slug}/features/calendar/?week=2025-03-17")
        odd = client.get(f"/o/{org.slug}/features/calendar/?days=45&week=yesterday&page=-3%00")
    assert chosen.context["week"].start == D(2025, 3, 17)
    assert [row.member for row in chosen.context["page"].rows] == [str(people[1])]
    assert odd.status_code == 200
    assert odd.context["calendar"].days == 30
    assert odd.context["week"].start == D(2025, 3, 10)


def test_an_empty_calendar_says_so(org, finance, login):
    response = login(finance).get(f"/o/{org.slug}/features/calendar/")
    assert response.status_code == 200
    assert "Nothing renews in this window." in text_of(response)


def test_another_organizations_subscriptions_never_show(org, other_org, owner, people, login):
    stranger = MemberFactory(organization=other_org, display_name="Stranger Danger")
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(other_org, stranger, D(2025, 3, 11))
        response = login(owner).get(f"/o/{org.slug}/features/calendar/")
    assert "Stranger Danger" not in text_of(response)
    assert response.context["calendar"].renewing == 0


def test_prices_for_reads_many_prices_at_once(org, django_assert_num_queries):
    france, world = plan(), plan("world-200")
    with django_assert_num_queries(1):
        prices = prices_for(
            currency="EUR", keys=[(france.pk, 1), (france.pk, 12), (world.pk, 3), (france.pk, 7)]
        )
    assert prices[(france.pk, 1)] == eur("2.99")
    assert prices[(france.pk, 12)] == eur("29.99")
    assert (france.pk, 7) not in prices
    assert (world.pk, 1) not in prices  # not asked for
    with django_assert_num_queries(0):
        assert prices_for(currency="EUR", keys=[]) == {}


def _queries_of_the_page(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_reads_the_same_number_of_queries_for_5_or_250_subscriptions(org, owner, login):
    """The weeks are grouped in SQL and priced with one query; the rows are a page of one week:
    more subscriptions add no query."""
    client = login(owner)
    url = f"/o/{org.slug}/features/calendar/?days=90"
    codes = ["france-landlines-unlimited", "world-200", "europe-400"]
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        members = MemberFactory.create_batch(5, organization=org)
        for index, member in enumerate(members):
            due(org, member, D(2025, 3, 6) + datetime.timedelta(days=index * 9), code=codes[0])
        few = _queries_of_the_page(client, url)
        more = MemberFactory.create_batch(245, organization=org)
        for index, member in enumerate(more):
            due(
                org,
                member,
                D(2025, 3, 6) + datetime.timedelta(days=index % 85),
                code=codes[index % 3],
                months=[1, 3, 12][index % 3],
                auto_renew=index % 7 != 0,
            )
        many = _queries_of_the_page(client, url)
        listed = client.get(url).context["page"]
    assert many == few
    assert len(listed.rows) <= 100
