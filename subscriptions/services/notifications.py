"""Emails of the features app about numbers and voicemail: to the owners and admins (a number
that could not be bought) and to a member (a voicemail, its audio attached).

Owns no rows: each email goes through the outbox under a key derived from what it is about,
so a retried task sends it once; each person reads it in their own language.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from credit.services.notifications import recipients, site_url
from organizations.models import Member, Organization
from organizations.roles import Role
from outbox.services import message_queue_email

TEMPLATES = "subscriptions/email"


def member_language(member: Member) -> str:
    """The language a member reads (their user's), else the site's."""
    user = member.user if member.user_id else None
    return (user.language if user else "") or settings.LANGUAGE_CODE


def _queue(*, to: str, language: str, template: str, key: str, context: dict, attachment=""):
    with translation.override(language):
        subject = render_to_string(f"{TEMPLATES}/{template}_subject.txt", context)
        message_queue_email(
            to=to,
            subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
            body=render_to_string(f"{TEMPLATES}/{template}_message.txt", context).strip(),
            html=render_to_string(f"{TEMPLATES}/{template}_message.html", context),
            language=language,
            key=key,
            attachment=attachment,
        )


def email_admins(*, organization: Organization, template: str, key: str, context: dict) -> int:
    """Queue `<template>` to the active owners and admins, once per person for `key`."""
    people = recipients(organization, [Role.OWNER, Role.ADMIN])
    link = site_url("subscriptions:number-list", org_slug=organization.slug)
    for person in people:
        _queue(
            to=person.email,
            language=person.language,
            template=template,
            key=f"{key}:to:{person.member.pk}",
            context={
                **context,
                "organization": organization,
                "recipient": person.member,
                "link": link,
            },
        )
    return len(people)


def email_member_voicemail(*, organization: Organization, voicemail) -> bool:
    """Send a member their voicemail, the audio attached ("subscriptions.voicemail:<id>"),
    once per voicemail. False when the member has no email address."""
    member = voicemail.member
    user = member.user if member.user_id else None
    address = (user.email if user else "") or member.email
    if not address:
        return False
    _queue(
        to=address,
        language=member_language(member),
        template="voicemail",
        key=f"subscriptions:voicemail:{voicemail.pk}",
        attachment=f"subscriptions.voicemail:{voicemail.pk}",
        context={
            "organization": organization,
            "voicemail": voicemail,
            "link": site_url("dashboard:my-account", org_slug=organization.slug) + "#phone",
        },
    )
    return True
