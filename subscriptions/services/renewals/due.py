"""Finding what is due: the beat sweep's batches over every organization, and an
organization's unpaid subscriptions when credit arrives.
"""

from datetime import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from organizations.models import Organization
from organizations.scoping import all_tenants
from subscriptions.models import Renewal, Subscription
from subscriptions.services.renewals.common import BATCH, RENEWING


def _waiting(now: datetime) -> Exists:
    """The subscription's due period has a retry planned later than `now`."""
    return Exists(
        Renewal.objects.filter(
            subscription=OuterRef("pk"),
            period_start=OuterRef("period_end"),
            status=Renewal.Status.DUE,
            next_attempt_at__gt=now,
        )
    )


def subscriptions_due(*, now: datetime | None = None) -> list[tuple[int, list[int]]]:
    """Every organization's subscriptions due for renewal now, as (organization id, up to
    BATCH subscription ids), for the beat sweep to hand out: renewing, not released, period
    ended, and no retry planned for later."""
    now = now or timezone.now()
    with all_tenants("the renewal sweep looks at every organization"):
        rows = (
            Subscription.objects.filter(
                status__in=RENEWING, released_at__isnull=True, period_end__lte=now
            )
            .exclude(_waiting(now))
            .order_by("organization_id", "pk")
            .values_list("organization_id", "pk")
        )
        batches: list[tuple[int, list[int]]] = []
        for organization_id, pk in rows.iterator(chunk_size=2000):
            if not batches or batches[-1][0] != organization_id or len(batches[-1][1]) >= BATCH:
                batches.append((organization_id, []))
            batches[-1][1].append(pk)
    return batches


def subscriptions_due_for(*, organization: Organization, now: datetime | None = None) -> list[int]:
    """The organization's subscriptions whose period has ended and that are still unpaid,
    retries planned or not (credit just arrived: each is tried at once)."""
    now = now or timezone.now()
    return list(
        Subscription.objects.for_org(organization)
        .filter(status__in=RENEWING, released_at__isnull=True, period_end__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
