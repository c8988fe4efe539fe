"""Emails about money: to the owners, receipts (and bank transfers received) and automatic
recharges that stopped; `email_members`, which every credit email to an organization goes
through (credit.services.alerts writes to owners and admins with it); and `email_staff`, to
platform staff about payments that need them.

Owns no rows: each email goes through the outbox (outbox.services.message_queue_email) under a
key derived from what it is about, so that a retried task or a second webhook sends it once.
Each person reads it in their own language.
"""

import hashlib
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from credit.models import Purchase
from organizations.models import Member, Organization
from organizations.roles import Role
from outbox.services import message_queue_email


@dataclass(frozen=True)
class Recipient:
    member: Member
    email: str
    language: str


def recipients(
    organization: Organization, roles: list[str], *, member_ids: list[int] | None = None
) -> list[Recipient]:
    """Active members of these roles (among `member_ids` when given) who have an email address
    (a verified one first), each with their language."""
    people = Member.objects.for_org(organization).filter(
        role__in=roles, status=Member.Status.ACTIVE
    )
    if member_ids is not None:
        people = people.filter(pk__in=member_ids)
    people = list(people.select_related("user").order_by("pk"))
    verified: dict[int, str] = {}
    for address in EmailAddress.objects.filter(
        user_id__in=[member.user_id for member in people if member.user_id], verified=True
    ).order_by("-primary", "pk"):
        verified.setdefault(address.user_id, address.email)
    found = []
    for member in people:
        user = member.user
        email = verified.get(member.user_id) or (user.email if user else "") or member.email
        if email:
            language = (user.language if user else "") or settings.LANGUAGE_CODE
            found.append(Recipient(member, email, language))
    return found


def site_url(url_name: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(url_name, kwargs=kwargs)


def email_members(
    *,
    organization: Organization,
    roles: list[str],
    template: str,
    key: str,
    context: dict,
    attachment: str = "",
) -> int:
    """Queue `credit/email/<template>_{subject,message}` to the members of these roles, once
    per person for `key`, with `attachment` (see outbox.attachments). Returns how many were
    addressed (a repeated key queues nothing new)."""
    people = recipients(organization, roles)
    for person in people:
        with translation.override(person.language):
            full = {**context, "organization": organization, "recipient": person.member}
            subject = render_to_string(f"credit/email/{template}_subject.txt", full)
            message_queue_email(
                to=person.email,
                subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                body=render_to_string(f"credit/email/{template}_message.txt", full).strip(),
                html=render_to_string(f"credit/email/{template}_message.html", full),
                language=person.language,
                key=f"{key}:to:{person.member.pk}",
                attachment=attachment,
            )
    return len(people)


def staff_recipients() -> list[tuple[str, str]]:
    """Platform staff to alert, each as (email, language): the addresses of the
    STAFF_ALERT_EMAILS setting when it is set, else every active staff user with an email."""
    if settings.STAFF_ALERT_EMAILS:
        return [(email, settings.LANGUAGE_CODE) for email in settings.STAFF_ALERT_EMAILS]
    staff = (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    return [(user.email, user.language or settings.LANGUAGE_CODE) for user in staff]


def email_staff(*, template: str, key: str, context: dict) -> int:
    """Queue `credit/email/<template>_{subject,message}` to each of `staff_recipients`, once
    per address for `key`. Returns how many were addressed."""
    people = staff_recipients()
    for email, language in people:
        address = hashlib.sha256(email.lower().encode()).hexdigest()[:16]
        with translation.override(language):
            subject = render_to_string(f"credit/email/{template}_subject.txt", context)
            message_queue_email(
                to=email,
                subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                body=render_to_string(f"credit/email/{template}_message.txt", context).strip(),
                html=render_to_string(f"credit/email/{template}_message.html", context),
                language=language,
                key=f"{key}:staff:{address}",
            )
    return len(people)


def _email_owners(*, organization: Organization, **email) -> int:
    return email_members(organization=organization, roles=[Role.OWNER], **email)


def receipt_email_owners(*, organization: Organization, purchase_id: int) -> int:
    """Email the receipt of a paid purchase to the owners, once (a bank transfer's receipt
    says that the transfer arrived). Nothing for a purchase that is not paid. Called in the
    transaction that records the payment, so that the outbox holds the emails when it
    commits (its sweep sends them if the broker was down)."""
    purchase = Purchase.objects.for_org(organization).filter(pk=purchase_id).first()
    if purchase is None or purchase.status != Purchase.Status.PAID:
        return 0
    return _email_owners(
        organization=organization,
        template="receipt",
        key=f"credit:receipt:{purchase.pk}",
        attachment=f"credit.receipt:{purchase.pk}",
        context={
            "purchase": purchase,
            "link": site_url(
                "credit:purchase-detail", org_slug=organization.slug, purchase_id=purchase.pk
            ),
            "pdf_link": site_url(
                "credit:receipt-pdf", org_slug=organization.slug, purchase_id=purchase.pk
            ),
        },
    )


def auto_recharge_disabled_email_owners(
    *, organization: Organization, purchase: Purchase, reason: str
) -> int:
    """Tell the owners that automatic recharge stopped and how to fix it; once per failed
    recharge (the synchronous error and Stripe's webhook about it send one email)."""
    return _email_owners(
        organization=organization,
        template="auto_recharge_disabled",
        key=f"credit:auto-recharge-disabled:{purchase.pk}",
        context={
            "purchase": purchase,
            "reason": reason,
            "link": site_url("credit:payment-method", org_slug=organization.slug),
        },
    )
