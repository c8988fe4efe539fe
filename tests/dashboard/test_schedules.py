"""The monthly report by email: who subscribes, when it goes, and that it goes once."""

import datetime
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection

from dashboard.models import ReportSchedule, ReportScheduleSend
from dashboard.services.schedules import (
    report_schedule_send,
    report_schedule_subscribe,
    report_schedules_due,
)
from dashboard.tasks.schedules import report_schedule_send_due
from organizations.roles import Role
from outbox.models import OutboundMessage
from tests.dashboard.support import busy_month, csv_rows, pdf_strings, url
from tests.factories import MemberFactory, OrganizationFactory, UserFactory

# December 1, 2026, 07:00 in Paris.
FIRST = datetime.datetime(2026, 12, 1, 6, 0, tzinfo=datetime.UTC)
NOVEMBER = datetime.date(2026, 11, 1)


@pytest.fixture
def french_finance(org):
    return MemberFactory(organization=org, role=Role.FINANCE, user=UserFactory(language="fr"))


@pytest.fixture
def november_spend(org, employee):
    when = datetime.datetime(2026, 11, 12, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(when + datetime.timedelta(hours=1), tick=False):
        busy_month(org, [employee], when=when)


# --- The page --------------------------------------------------------------------------------


def test_finance_subscribes_and_unsubscribes(org, finance, login):
    client = login(finance)
    page = client.get(url(org, "schedule")).content.decode()
    assert "You do not receive the monthly report." in page
    assert "Who receives it" not in page, "only owners and admins see who gets it"

    response = client.post(url(org, "schedule"), {"action": "subscribe"}, follow=True)
    assert "You will receive the monthly report by email on the 1st." in response.content.decode()
    assert ReportSchedule.objects.for_org(org).get().active

    client.post(url(org, "schedule"), {"action": "subscribe"})
    assert ReportSchedule.objects.for_org(org).count() == 1, "one schedule per member"

    response = client.post(url(org, "schedule"), {"action": "unsubscribe"}, follow=True)
    assert "You will no longer receive the monthly report." in response.content.decode()
    assert not ReportSchedule.objects.for_org(org).get().active


def test_owners_and_admins_see_who_receives_it(org, owner, admin, finance, login):
    report_schedule_subscribe(organization=org, actor=finance)
    for person in (owner, admin):
        page = login(person).get(url(org, "schedule")).content.decode()
        assert "Who receives it" in page
        assert str(finance) in page


def test_an_odd_action_changes_nothing(org, finance, login):
    response = login(finance).post(url(org, "schedule"), {"action": "a\x00b"}, follow=True)
    assert response.status_code == 200
    assert "Choose to receive the report or to stop it." in response.content.decode()
    assert not ReportSchedule.objects.for_org(org).exists()


def test_employees_cannot_subscribe_and_outsiders_do_not_see_the_page(
    org, employee, outsider, login
):
    assert login(employee).get(url(org, "schedule")).status_code == 403
    assert login(employee).post(url(org, "schedule"), {"action": "subscribe"}).status_code == 403
    assert login(outsider).get(url(org, "schedule")).status_code == 404
    with pytest.raises(Exception, match="Only finance members"):
        report_schedule_subscribe(organization=org, actor=employee)
    assert not ReportSchedule.objects.for_org(org).exists()


# --- Sending ---------------------------------------------------------------------------------


def test_the_report_goes_on_the_1st_once_even_when_the_sweep_runs_twice(
    org, french_finance, november_spend, django_capture_on_commit_callbacks
):
    report_schedule_subscribe(organization=org, actor=french_finance)

    with (
        time_machine.travel(FIRST, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert report_schedule_send_due.delay().get() == 1
        assert report_schedule_send_due.delay().get() == 0

    assert ReportScheduleSend.objects.for_org(org).get().month == NOVEMBER
    [email] = mail.outbox
    assert email.to == [french_finance.email]
    assert "novembre 2026" in email.subject, "in the member's language"
    (pdf_name, pdf, pdf_type), (csv_name, summary, csv_type) = email.attachments
    assert (pdf_name, pdf_type) == ("skypemgr-acme-sarl-2026-11.pdf", "application/pdf")
    assert "Acme SARL" in pdf_strings(pdf)
    assert (csv_name, csv_type) == ("skypemgr-acme-sarl-2026-11-summary.csv", "text/csv")
    summary_text = summary if isinstance(summary, bytes) else summary.encode()
    assert csv_rows(summary_text, delimiter=";")[0], "French: the CSV is ;-separated"
    message = OutboundMessage.objects.get()
    assert message.attachment_name == (
        "skypemgr-acme-sarl-2026-11.pdf\nskypemgr-acme-sarl-2026-11-summary.csv"
    )


def test_the_task_run_twice_for_the_same_month_sends_once(
    org, finance, django_capture_on_commit_callbacks
):
    schedule = report_schedule_subscribe(organization=org, actor=finance)
    with django_capture_on_commit_callbacks(execute=True):
        first = report_schedule_send(organization=org, schedule_id=schedule.pk, month=NOVEMBER)
        again = report_schedule_send(organization=org, schedule_id=schedule.pk, month=NOVEMBER)

    assert (first, again) == (True, False)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_once(org, finance):
    schedule = report_schedule_subscribe(organization=org, actor=finance)
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(
                report_schedule_send(organization=org, schedule_id=schedule.pk, month=NOVEMBER)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [False, True]
    assert ReportScheduleSend.objects.for_org(org).count() == 1
    assert OutboundMessage.objects.filter(key__startswith="dashboard:monthly-report:").count() == 1


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        # 05:59 in Paris on the 1st: not yet.
        (datetime.datetime(2026, 12, 1, 4, 59, tzinfo=datetime.UTC), False),
        (datetime.datetime(2026, 12, 1, 5, 0, tzinfo=datetime.UTC), True),
        # A sweep missed on the 1st still sends on the 3rd; not on the 4th.
        (datetime.datetime(2026, 12, 3, 22, 0, tzinfo=datetime.UTC), True),
        (datetime.datetime(2026, 12, 4, 8, 0, tzinfo=datetime.UTC), False),
        (datetime.datetime(2026, 11, 15, 8, 0, tzinfo=datetime.UTC), False),
    ],
)
def test_when_a_report_is_due(org, finance, moment, due):
    schedule = report_schedule_subscribe(organization=org, actor=finance)
    expected = [(org.pk, schedule.pk, "2026-11-01")] if due else []
    assert report_schedules_due(now=moment) == expected


def test_each_organization_gets_its_own_1st(db):
    honolulu = OrganizationFactory(time_zone="Pacific/Honolulu")
    auckland = OrganizationFactory(time_zone="Pacific/Auckland")
    in_honolulu = report_schedule_subscribe(
        organization=honolulu, actor=MemberFactory(organization=honolulu, role=Role.OWNER)
    )
    in_auckland = report_schedule_subscribe(
        organization=auckland, actor=MemberFactory(organization=auckland, role=Role.OWNER)
    )

    # 06:00 UTC on December 1: November 30, 20:00 in Honolulu; December 1, 19:00 in Auckland.
    assert report_schedules_due(now=FIRST) == [(auckland.pk, in_auckland.pk, "2026-11-01")]
    # 16:00 UTC: 06:00 in Honolulu on the 1st.
    later = datetime.datetime(2026, 12, 1, 16, 0, tzinfo=datetime.UTC)
    assert (honolulu.pk, in_honolulu.pk, "2026-11-01") in report_schedules_due(now=later)


def test_nothing_goes_to_a_member_who_stopped_it_or_no_longer_may_read_reports(
    org, finance, admin, django_capture_on_commit_callbacks
):
    stopped = report_schedule_subscribe(organization=org, actor=finance)
    stopped.active = False
    stopped.save()
    demoted = report_schedule_subscribe(organization=org, actor=admin)
    type(admin).objects.for_org(org).filter(pk=admin.pk).update(role=Role.MEMBER)

    assert report_schedules_due(now=FIRST) == []
    with django_capture_on_commit_callbacks(execute=True):
        for schedule in (stopped, demoted):
            assert not report_schedule_send(
                organization=org, schedule_id=schedule.pk, month=NOVEMBER
            )
    assert mail.outbox == []
    assert not ReportScheduleSend.objects.for_org(org).exists()


def test_a_schedule_of_another_organization_is_not_sent_through_this_one(org, other_org, outsider):
    theirs = report_schedule_subscribe(organization=other_org, actor=outsider)
    assert not report_schedule_send(organization=org, schedule_id=theirs.pk, month=NOVEMBER)
    assert not ReportScheduleSend.objects.for_org(other_org).exists()


def test_the_email_in_english_has_the_summary_and_the_links(
    org, finance, django_capture_on_commit_callbacks
):
    schedule = report_schedule_subscribe(organization=org, actor=finance)
    with django_capture_on_commit_callbacks(execute=True):
        report_schedule_send(organization=org, schedule_id=schedule.pk, month=NOVEMBER)

    [email] = mail.outbox
    assert email.subject.endswith("Monthly report of November 2026: Acme SARL")
    assert "the whole report as a PDF and its summary as CSV are attached" in email.body
    assert "/o/acme-sarl/reports/scheduled/" in email.body
    html = email.alternatives[0][0] if hasattr(email.alternatives[0], "__getitem__") else ""
    assert "November 2026" in html
