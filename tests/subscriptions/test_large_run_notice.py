"""The large-run notice: a day whose renewals reach the threshold, `notice_days` ahead or
closer, is emailed to owners and admins once per (organization, day), in each person's
language, with the total, the count, the company balance and whether it covers them."""

import datetime
import re

import pytest
import time_machine

from organizations.scoping import tenant_scope
from outbox.models import OutboundMessage
from subscriptions.models import FeatureSettings
from subscriptions.selectors.calendar import renewals_due_on
from subscriptions.services.large_runs import large_runs_ahead
from subscriptions.tasks import large_run_notices_due
from tests.credit.rules_support import bought
from tests.factories import MemberFactory
from tests.subscriptions.calendar_support import catalog, due, local  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

WEDNESDAY = (2025, 3, 5, 7, 20)
D = datetime.date


def notices() -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(key__startswith="subscriptions:large-run:").order_by("pk")
    )


def plain(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def policy(org, **values):
    with tenant_scope(org):
        FeatureSettings.objects.filter(organization=org).update(**values)


@pytest.fixture
def saturday_run(org):
    """Saturday March 8th: four monthly renewals (4 at €2.99: €11.96), one ending (not
    counted); smaller or farther days around it."""
    people = MemberFactory.create_batch(8, organization=org)
    policy(org, notice_days=3, notice_threshold=10)
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        for member in people[:4]:
            due(org, member, D(2025, 3, 8))
        due(org, people[4], D(2025, 3, 8), months=12, auto_renew=False)
        due(org, people[5], D(2025, 3, 6))  # €2.99: below the threshold
        due(org, people[6], D(2025, 3, 10), months=12)  # large, but 5 days ahead
        due(org, people[7], D(2025, 3, 7), months=12, cancel_at_period_end=True)
    return people


def run_at(org, *moment) -> None:
    with time_machine.travel(local(org, *moment), tick=False):
        large_run_notices_due.delay()


def test_a_large_day_ahead_is_emailed_once_to_each_owner_and_admin(
    org, owner, admin, finance, employee, saturday_run
):
    admin.user.language = "fr"
    admin.user.save()
    bought(org, owner, 5)
    run_at(org, *WEDNESDAY)
    run_at(org, *WEDNESDAY)
    mails = notices()
    assert sorted(mail.to for mail in mails) == sorted([owner.email, admin.email])
    assert {mail.key.split(":to:")[0] for mail in mails} == {
        f"subscriptions:large-run:{org.pk}:2025-03-08"
    }
    english = next(mail for mail in mails if mail.to == owner.email)
    french = next(mail for mail in mails if mail.to == admin.email)
    assert english.language == "en"
    assert french.language == "fr"
    assert "€11.96 of renewals due on March 8, 2025" in english.subject
    body = plain(english.body)
    assert "On March 8, 2025, 4 features of Acme SARL renew, for €11.96" in body
    assert "The company balance is €5.00: it does not cover these renewals" in body
    assert f"/o/{org.slug}/features/calendar/" in english.body
    assert f"/o/{org.slug}/credit/buy/" in english.body
    assert "11,96 €" in plain(french.body)
    assert "8 mars 2025" in plain(french.body)


def test_the_next_days_run_sends_nothing_new_about_the_same_day(org, owner, admin, saturday_run):
    run_at(org, *WEDNESDAY)
    run_at(org, 2025, 3, 6, 7, 20)
    assert len(notices()) == 2


def test_a_balance_that_covers_the_run_says_so(org, owner, saturday_run):
    bought(org, owner, 100)
    run_at(org, *WEDNESDAY)
    [mail] = notices()
    body = plain(mail.body)
    assert "The company balance is €100.00: it covers these renewals" in body
    assert "(€14.95 in all)" in body, "the €2.99 of Thursday is due before Saturday's run"
    assert "/credit/buy/" not in mail.body


def test_below_the_threshold_or_farther_than_the_notice_days_nothing_is_sent(
    org, owner, saturday_run
):
    policy(org, notice_threshold=12)
    run_at(org, *WEDNESDAY)
    assert notices() == []
    policy(org, notice_threshold=10, notice_days=5)
    run_at(org, *WEDNESDAY)
    days = {mail.key.split(":")[3] for mail in notices()}
    assert days == {"2025-03-08", "2025-03-10"}


def test_the_day_is_the_organizations_day(org, owner, saturday_run):
    """Midnight starting Saturday in Paris is 23:00 on Friday in UTC: the renewals count for
    Saturday, not Friday."""
    with tenant_scope(org):
        _friday_total, friday_count = renewals_due_on(organization=org, day=D(2025, 3, 7))
        saturday_total, saturday_count = renewals_due_on(organization=org, day=D(2025, 3, 8))
    assert friday_count == 0
    assert saturday_count == 4
    assert str(saturday_total) == "€11.96"


def test_other_organizations_are_looked_at_on_their_own(org, other_org, owner, saturday_run):
    other_owner = MemberFactory(organization=other_org, role="owner")
    policy(other_org, notice_days=3, notice_threshold=1000)
    with time_machine.travel(local(org, *WEDNESDAY), tick=False):
        due(other_org, MemberFactory(organization=other_org), D(2025, 3, 8))
        with tenant_scope(other_org):
            assert large_runs_ahead(organization=other_org) == []
    run_at(org, *WEDNESDAY)
    assert [mail.to for mail in notices()] == [owner.email]
    assert other_owner.email not in {mail.to for mail in notices()}
