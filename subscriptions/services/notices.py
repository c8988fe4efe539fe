"""Emails about renewals to the organization's managers (active owners and admins): a feature
could not be renewed (past due), and a feature was suspended.

Owns no rows: each email is an outbox message queued in the caller's transaction under a key
derived from the subscription and the period it is about, so that daily retries, a second
sweep or a replayed task send it once. Each manager reads it in their own language.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from credit.services.notifications import recipients, site_url
from organizations.models import Organization
from organizations.roles import Role
from outbox.services import message_queue_email
from subscriptions.models import Subscription


def renewal_managers_email(
    *,
    organization: Organization,
    subscription: Subscription,
    template: str,
    key: str,
    context: dict,
) -> int:
    """Queue `subscriptions/email/<template>_{subject,message}` to each manager, once per
    manager for `key`. Returns how many were addressed."""
    people = recipients(organization, [Role.OWNER, Role.ADMIN])
    for person in people:
        with translation.override(person.language):
            full = {
                **context,
                "organization": organization,
                "subscription": subscription,
                "plan_name": subscription.plan.display_name,
                "member_name": str(subscription.member),
                "recipient": person.member,
                "buy_link": site_url("credit:buy", org_slug=organization.slug),
            }
            subject = render_to_string(f"subscriptions/email/{template}_subject.txt", full)
            message_queue_email(
                to=person.email,
                subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                body=render_to_string(f"subscriptions/email/{template}_message.txt", full).strip(),
                html=render_to_string(f"subscriptions/email/{template}_message.html", full),
                language=person.language,
                key=f"{key}:to:{person.member.pk}",
            )
    return len(people)
