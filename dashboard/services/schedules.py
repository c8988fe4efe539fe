"""The monthly report by email: who gets it, and sending it once a month.

Owns ReportSchedule and ReportScheduleSend.

- `report_schedule_subscribe` / `report_schedule_unsubscribe`: a finance member, admin or owner
  asks for (or stops) last month's report by email on the 1st.
- `report_schedules_due` (the beat sweep's read): each active schedule whose organization has
  reached the 1st of a month, 6 a.m. in its own time zone (until the 3rd, so that a sweep
  missed for a day still sends), and that has no send for the month before.
- `report_schedule_send`: locks the schedule, records the send (unique per schedule and
  month: a second run, or two at once, finds the row and sends nothing), and queues the email
  in the member's language, with the report as a PDF and the summary as CSV, both built when
  the email leaves (see outbox.attachments).
"""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from credit.services.notifications import recipients, site_url
from dashboard.exports import cell_text, report_csv, report_file_name, report_pdf
from dashboard.models import ReportSchedule, ReportScheduleSend
from dashboard.periods import MONTH, Period
from dashboard.reports import Report
from organizations.models import Member, Organization
from organizations.roles import STAFF_ROLES, Role
from organizations.scoping import all_tenants, tenant_scope
from outbox.attachments import Attachment
from outbox.services import message_queue_email
from skypemgr.errors import PermissionDeniedError

# Reports go out from 6 a.m. on the 1st (the organization's time zone), until the 3rd.
SEND_HOUR = 6
LAST_SEND_DAY = 3
PDF_ATTACHMENT = "dashboard.report_pdf"
CSV_ATTACHMENT = "dashboard.report_csv"
SUMMARY = "summary"


def _check_role(actor: Member) -> None:
    if not Role(actor.role).at_least(Role.FINANCE):
        raise PermissionDeniedError(
            _("Only finance members, admins and owners receive the monthly report.")
        )


def report_schedule_of(*, organization: Organization, member: Member) -> ReportSchedule | None:
    return ReportSchedule.objects.for_org(organization).filter(member=member).first()


def report_schedule_subscribe(*, organization: Organization, actor: Member) -> ReportSchedule:
    """Send `actor` the monthly report from now on (their one schedule, made or turned back
    on)."""
    _check_role(actor)
    with transaction.atomic():
        schedule, _created = ReportSchedule.objects.for_org(organization).update_or_create(
            organization=organization, member=actor, defaults={"active": True}
        )
    return schedule


def report_schedule_unsubscribe(*, organization: Organization, actor: Member) -> None:
    """Stop sending `actor` the monthly report (their schedule stays, turned off)."""
    ReportSchedule.objects.for_org(organization).filter(member=actor).update(active=False)


def report_schedule_subscribers(*, organization: Organization) -> list[Member]:
    """The members who get the monthly report now, by name."""
    return list(
        Member.objects.for_org(organization)
        .filter(
            pk__in=ReportSchedule.objects.for_org(organization)
            .filter(active=True)
            .values("member_id"),
            status=Member.Status.ACTIVE,
            role__in=STAFF_ROLES,
        )
        .order_by("display_name", "pk")
    )


def _month_due(organization: Organization, now: datetime.datetime) -> datetime.date | None:
    """The month whose report is due now in the organization's time zone, if any."""
    local = now.astimezone(ZoneInfo(organization.time_zone))
    if local.day > LAST_SEND_DAY or (local.day == 1 and local.hour < SEND_HOUR):
        return None
    return Period.month_of(local.date()).previous.start


def report_schedules_due(*, now: datetime.datetime | None = None) -> list[tuple[int, int, str]]:
    """(organization id, schedule id, month as "YYYY-MM-DD") of each report due and not sent:
    active schedules of active finance members, admins and owners. Reads every organization:
    the beat sweep's query."""
    now = now or timezone.now()
    with all_tenants("the monthly report sweep looks at every organization's schedules"):
        schedules = list(
            ReportSchedule.objects.filter(
                active=True, member__status=Member.Status.ACTIVE, member__role__in=STAFF_ROLES
            )
            .select_related("organization")
            .order_by("organization_id", "pk")
        )
        due = [
            (schedule, month)
            for schedule in schedules
            if (month := _month_due(schedule.organization, now)) is not None
        ]
        sent = set(
            ReportScheduleSend.objects.filter(
                schedule_id__in=[schedule.pk for schedule, _month in due],
                month__in={month for _schedule, month in due},
            ).values_list("schedule_id", "month")
        )
    return [
        (schedule.organization_id, schedule.pk, month.isoformat())
        for schedule, month in due
        if (schedule.pk, month) not in sent
    ]


def report_schedule_send(
    *, organization: Organization, schedule_id: int, month: datetime.date
) -> bool:
    """Email the report of `month` to the schedule's member, once: the schedule row is
    locked, then the send is recorded (unique per schedule and month) and the email queued in
    the same transaction. Nothing when the schedule was turned off, its member is no longer an
    active finance member, admin or owner, has no address, or the month was sent already.
    Returns whether an email was queued."""
    from dashboard.selectors.reports import report_build

    with transaction.atomic():
        schedule = (
            ReportSchedule.objects.for_org(organization)
            .select_for_update()
            .filter(pk=schedule_id, active=True)
            .first()
        )
        if schedule is None:
            return False
        people = recipients(organization, list(STAFF_ROLES), member_ids=[schedule.member_id])
        if not people:
            return False
        [person] = people
        send, created = ReportScheduleSend.objects.for_org(organization).get_or_create(
            organization=organization, schedule=schedule, month=month
        )
        if not created:
            return False
        with translation.override(person.language):
            report = report_build(organization=organization, period=Period(MONTH, month))
            context = {
                "organization": organization,
                "recipient": person.member,
                "report": report,
                "summary": summary_lines(report),
                "link": _report_link(organization, month),
                "schedule_link": site_url("dashboard:schedule", org_slug=organization.slug),
            }
            subject = render_to_string("dashboard/email/monthly_report_subject.txt", context)
            message_queue_email(
                to=person.email,
                subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                body=render_to_string(
                    "dashboard/email/monthly_report_message.txt", context
                ).strip(),
                html=render_to_string("dashboard/email/monthly_report_message.html", context),
                language=person.language,
                key=f"dashboard:monthly-report:{schedule.pk}:{month:%Y-%m}",
                attachment=f"{PDF_ATTACHMENT}:{send.pk} {CSV_ATTACHMENT}:{send.pk}",
            )
    return True


def _report_link(organization: Organization, month: datetime.date) -> str:
    url = site_url("dashboard:report-month", org_slug=organization.slug)
    return f"{url}?month={month:%Y-%m}"


def summary_lines(report: Report) -> list[list[str]]:
    """The summary table's rows as text, each cell as a person reads it (for the email)."""
    table = report.tables.get(SUMMARY)
    if table is None:
        return []
    return [
        [
            cell_text(column, value, currency=report.currency)
            for column, value in zip(table.columns, row, strict=False)
        ]
        for row in table.rows
    ]


# --- Attachments (built when the email leaves, in its language) -------------------------------


def _sent_report(identifier: str) -> Report | None:
    from dashboard.selectors.reports import report_build

    if not (identifier.isascii() and identifier.isdigit() and len(identifier) <= 18):
        return None
    with all_tenants("an email names its report by the send's id; the row has its organization"):
        send = (
            ReportScheduleSend.objects.select_related("organization")
            .filter(pk=int(identifier))
            .first()
        )
    if send is None:
        return None
    organization = send.organization
    with tenant_scope(organization):
        return report_build(organization=organization, period=Period(MONTH, send.month))


def report_pdf_attachment(identifier: str) -> Attachment | None:
    """The monthly report as a PDF ("dashboard.report_pdf:<send id>")."""
    report = _sent_report(identifier)
    if report is None:
        return None
    with tenant_scope(report.organization):
        content = report_pdf(report)
    return Attachment(
        filename=report_file_name(report, file_format="pdf"),
        content=content,
        mimetype="application/pdf",
    )


def report_csv_attachment(identifier: str) -> Attachment | None:
    """The monthly report's summary as CSV ("dashboard.report_csv:<send id>")."""
    report = _sent_report(identifier)
    if report is None or SUMMARY not in report.tables:
        return None
    with tenant_scope(report.organization):
        content = report_csv(report, SUMMARY)
    return Attachment(
        filename=report_file_name(report, file_format="csv", table_key=SUMMARY),
        content=content,
        mimetype="text/csv",
    )
