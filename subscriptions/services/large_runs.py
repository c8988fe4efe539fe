"""The large-run notice: owners and admins hear, a few days ahead, of a day on which the
renewals due add up to the organization's threshold or more, with whether the company balance
covers them.

Owns no rows: each email goes through the outbox under the key
`subscriptions:large-run:<organization>:<day>:to:<member>`, so a run repeated on the same day
(or two at once, or the next days while that day is still ahead) sends each person one email
about each day. Each person reads it in their own language.
"""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from djmoney.money import Money

from credit.selectors.balances import company_balance
from credit.services.notifications import recipients, site_url
from organizations.models import Organization
from organizations.roles import Role
from outbox.services import message_queue_email
from subscriptions.selectors.calendar import renewals_due_on, renewals_due_until
from subscriptions.services.settings import feature_settings


@dataclass(frozen=True)
class LargeRun:
    day: datetime.date
    total: Money
    count: int


def large_runs_ahead(*, organization: Organization) -> list[LargeRun]:
    """The days from tomorrow to `notice_days` ahead (organization time) whose renewals add
    up to the notice threshold or more."""
    policy = feature_settings(organization)
    threshold = Money(policy.notice_threshold, organization.currency)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))
    runs = []
    for ahead in range(1, policy.notice_days + 1):
        day = today + datetime.timedelta(days=ahead)
        total, count = renewals_due_on(organization=organization, day=day)
        if count and total >= threshold:
            runs.append(LargeRun(day=day, total=total, count=count))
    return runs


def large_run_notice_key(organization: Organization, day: datetime.date) -> str:
    return f"subscriptions:large-run:{organization.pk}:{day.isoformat()}"


def large_run_notices_send(*, organization: Organization) -> list[LargeRun]:
    """Email each active owner and admin about each large run ahead, once per (organization,
    day). Returns the runs found (their emails may have gone out on an earlier run)."""
    runs = large_runs_ahead(organization=organization)
    if not runs:
        return runs
    balance = company_balance(organization=organization)
    people = recipients(organization, [Role.OWNER, Role.ADMIN])
    for run in runs:
        until_then, _count = renewals_due_until(organization=organization, day=run.day)
        context = {
            "organization": organization,
            "run": run,
            "balance": balance,
            "due_until_then": until_then,
            "covered": balance >= until_then,
            "calendar_link": site_url("subscriptions:calendar", org_slug=organization.slug),
            "buy_link": site_url("credit:buy", org_slug=organization.slug),
            "auto_recharge_link": site_url("credit:auto-recharge", org_slug=organization.slug),
        }
        key = large_run_notice_key(organization, run.day)
        for person in people:
            with translation.override(person.language):
                full = {**context, "recipient": person.member}
                subject = render_to_string("subscriptions/email/large_run_subject.txt", full)
                message_queue_email(
                    to=person.email,
                    subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                    body=render_to_string(
                        "subscriptions/email/large_run_message.txt", full
                    ).strip(),
                    html=render_to_string("subscriptions/email/large_run_message.html", full),
                    language=person.language,
                    key=f"{key}:to:{person.member.pk}",
                )
    return runs
