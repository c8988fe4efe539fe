"""Usage alerts: a member's spend at 80% and 100% of their monthly cap, their balance at zero,
and unusual spend.

Checked after usage is recorded: the ingestion schedules usage.tasks.alerts on commit, which
runs `usage_alerts_check` for the members of the batch. Reads the daily rollups (never raw
usage) and the wallets. Owns UsageAlert rows: an alert is one row, unique per (member, kind,
period), inserted with ON CONFLICT DO NOTHING in the transaction that queues its emails in the
outbox (sent after commit), so that a check run twice, or two checks at once, send it once.
Emails go to the member (caps and zero balance) and to the managers (active owners and
admins), each in their own language.

The rules (days and months are the organization's time zone; "usage spend" is calls and
messages, the rollup categories "call:<country>" and "sms"):

- cap: this month's usage spend against the wallet's monthly spending cap: at 80% ("cap_80")
  and at 100% ("cap_100"; a spend that jumps past both sends only this one, and files the 80%
  one too so that a refund back under the cap does not send it late). Period: the month.
- zero: the wallet is at zero and paid for usage today, i.e. it reached zero today. A wallet
  that was empty all along (the company pays the member's calls) is not news every day.
  Period: the day.
- unusual: today's usage spend is more than the organization's factor times the member's
  average day over the 30 days before today. With no usage in those 30 days there is no
  average to compare with: no alert (a new member's first calls are not unusual, and the
  monthly cap is what limits them). To the managers only. Period: the day, so at most once a
  day per member.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.selectors.spending import local_today, organization_zone
from credit.services.notifications import Recipient, recipients, site_url
from organizations.models import Member, Organization
from organizations.roles import Role
from outbox.services import message_queue_email
from usage.models import UsageAlert
from usage.selectors.usage import UsageSpend, usage_spend_by_member
from usage.services.settings import usage_settings

Kind = UsageAlert.Kind
# Share of the cap at which members are warned first.
CAP_WARNING = Decimal("0.8")
MANAGERS = [Role.OWNER, Role.ADMIN]

_INSERT = """
INSERT INTO usage_usagealert (organization_id, member_id, kind, period, created_at)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (organization_id, member_id, kind, period) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True)
class Due:
    """An alert a member's figures call for."""

    kind: str
    period: datetime.date
    # Whether the member is emailed too (the managers always are).
    to_member: bool
    context: dict = field(default_factory=dict)
    # Alerts filed with it, without an email of their own.
    also_files: tuple[str, ...] = ()


def usage_alerts_check(*, organization: Organization, member_ids: Sequence[int]) -> int:
    """Send the alerts the figures of these members call for, each at most once per (member,
    kind, period). Returns how many alerts were sent (not emails).

    Reads without locks (the rollups and balances committed so far); each alert is written
    in its own short transaction with its emails. Member ids of another organization are
    ignored.
    """
    ids = sorted({int(member_id) for member_id in member_ids})
    if not ids:
        return 0
    members = list(Member.objects.for_org(organization).filter(pk__in=ids).order_by("pk"))
    if not members:
        return 0
    today = local_today(organization)
    found = [member.pk for member in members]
    spend = usage_spend_by_member(organization=organization, member_ids=found, today=today)
    wallets = {
        wallet.member_id: wallet
        for wallet in Account.objects.for_org(organization).filter(
            kind=Account.Kind.MEMBER, member_id__in=found
        )
    }
    paid_today = _wallets_paid_usage_since(
        organization,
        [wallet for wallet in wallets.values() if wallet.balance.amount == 0],
        datetime.datetime.combine(today, datetime.time.min, tzinfo=organization_zone(organization)),
    )
    factor = usage_settings(organization).unusual_spend_factor
    sent = 0
    for member in members:
        wallet = wallets.get(member.pk)
        due = alerts_due(
            organization=organization,
            today=today,
            spend=spend[member.pk],
            wallet=wallet,
            reached_zero_today=wallet is not None and wallet.pk in paid_today,
            factor=factor,
        )
        for alert in due:
            sent += _alert_send(organization, member, alert)
    return sent


def _wallets_paid_usage_since(
    organization: Organization, wallets: list[Account], since: datetime.datetime
) -> set[int]:
    """Ids of the wallets among `wallets` that paid for usage since `since`."""
    if not wallets:
        return set()
    return set(
        Transfer.objects.for_org(organization)
        .filter(source__in=wallets, kind=Transfer.Kind.USAGE, created_at__gte=since)
        .values_list("source_id", flat=True)
        .distinct()
    )


def alerts_due(
    *,
    organization: Organization,
    today: datetime.date,
    spend: UsageSpend,
    wallet: Account | None,
    reached_zero_today: bool,
    factor: int,
) -> list[Due]:
    """The alerts one member's figures call for (the rules are in the module's docstring).
    Pure: decides, sends nothing."""
    currency = organization.currency
    due = []
    cap = wallet.monthly_spending_cap if wallet is not None else None
    if cap is not None and spend.month > 0:
        context = {
            "spend": Money(spend.month, currency),
            "cap": Money(cap.amount, currency),
            "balance": wallet.balance,
        }
        month = today.replace(day=1)
        if spend.month >= cap.amount:
            due.append(Due(Kind.CAP_100, month, True, context, also_files=(Kind.CAP_80,)))
        elif spend.month >= cap.amount * CAP_WARNING:
            due.append(Due(Kind.CAP_80, month, True, context))
    if wallet is not None and wallet.balance.amount == 0 and reached_zero_today:
        due.append(Due(Kind.ZERO, today, True, {"balance": wallet.balance}))
    average = spend.daily_average
    if average > 0 and spend.today > average * factor:
        due.append(
            Due(
                Kind.UNUSUAL,
                today,
                False,
                {
                    "today_spend": Money(spend.today, currency),
                    "average": Money(average, currency),
                    "factor": factor,
                },
            )
        )
    return due


def _insert(organization: Organization, member: Member, kind: str, period) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [organization.pk, member.pk, kind, period, timezone.now()])
        row = cursor.fetchone()
    return row[0] if row else None


def _alert_send(organization: Organization, member: Member, alert: Due) -> int:
    """File the alert and queue its emails, in one transaction; nothing when it was filed
    before (by this check run earlier or by another at the same time: the second INSERT waits
    for the first to commit, then does nothing)."""
    with transaction.atomic():
        alert_id = _insert(organization, member, alert.kind, alert.period)
        for kind in alert.also_files:
            _insert(organization, member, kind, alert.period)
        if alert_id is None:
            return 0
        context = {
            **alert.context,
            "kind": alert.kind,
            "member": member,
            "period": alert.period,
        }
        key = f"usage:alert:{alert_id}"
        if alert.to_member:
            _email(
                organization,
                recipients(organization, list(Role.values), member_ids=[member.pk]),
                template="member_alert",
                key=f"{key}:member",
                context={
                    **context,
                    "link": site_url("usage:my-usage", org_slug=organization.slug),
                },
            )
        managers = [
            person
            for person in recipients(organization, MANAGERS)
            if not (alert.to_member and person.member.pk == member.pk)
        ]
        _email(
            organization,
            managers,
            template="managers_alert",
            key=f"{key}:managers",
            context={
                **context,
                "link": site_url(
                    "usage:member-usage", org_slug=organization.slug, member_id=member.pk
                ),
                "credit_link": site_url(
                    "credit:member-credit", org_slug=organization.slug, member_id=member.pk
                ),
                "settings_link": site_url("usage:settings", org_slug=organization.slug),
            },
        )
    return 1


def _email(
    organization: Organization,
    people: list[Recipient],
    *,
    template: str,
    key: str,
    context: dict,
) -> None:
    """Queue `usage/email/<template>_{subject,message}` to each person, in their language,
    once per person for `key`."""
    for person in people:
        with translation.override(person.language):
            full = {**context, "organization": organization, "recipient": person.member}
            subject = render_to_string(f"usage/email/{template}_subject.txt", full)
            message_queue_email(
                to=person.email,
                subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                body=render_to_string(f"usage/email/{template}_message.txt", full).strip(),
                html=render_to_string(f"usage/email/{template}_message.html", full),
                language=person.language,
                key=f"{key}:to:{person.member.pk}",
            )
