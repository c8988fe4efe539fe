"""Reads of members' features: what each member has (their page, My account, the directory),
the organization's features (the Features page, the home panel), and members' access.

Always given the organization; never writes (a member without a MemberFeatures row reads as
the defaults: every kind allowed).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from organizations.models import Member, Organization
from subscriptions.models import MemberFeatures, Plan, Renewal, Subscription

# Statuses shown on a member's page: the live ones, and the ones that just ended.
SHOWN = (*Subscription.LIVE, Subscription.Status.FAILED)
ACCESS_FIELDS = ("may_call", "may_sms", "may_numbers", "may_voicemail")


@dataclass(frozen=True)
class Feature:
    """One subscription as a member's page shows it."""

    subscription: Subscription

    @property
    def minutes_included(self) -> int | None:
        """Minutes the plan includes for the current period (None: unlimited, or a plan
        without minutes). Usage (a later issue) subtracts what was called from this."""
        plan = self.subscription.plan
        if plan.kind != Plan.Kind.CALLING or plan.minutes is None:
            return None
        return plan.minutes * self.subscription.period_months

    @property
    def unlimited(self) -> bool:
        plan = self.subscription.plan
        return plan.kind == Plan.Kind.CALLING and plan.minutes is None

    @property
    def renews(self) -> bool:
        """Whether the period end is a renewal (not the end of the feature)."""
        subscription = self.subscription
        return subscription.auto_renew and not subscription.cancel_at_period_end


def member_features(*, organization: Organization, member: Member) -> list[Feature]:
    """A member's features that are live or failed recently, soonest period end first."""
    rows = (
        Subscription.objects.for_org(organization)
        .filter(member=member, status__in=SHOWN)
        .select_related("plan")
        .order_by("period_end", "pk")
    )
    return [Feature(row) for row in rows]


def directory_features(organization: Organization, members: Iterable) -> dict[int, list[str]]:
    """{member id: [plan names]} of the live features of the directory's page (one query)."""
    ids = [getattr(member, "pk", member) for member in members]
    found: dict[int, list[str]] = defaultdict(list)
    rows = (
        Subscription.objects.for_org(organization)
        .filter(member_id__in=ids, status__in=Subscription.LIVE)
        .select_related("plan")
        .order_by("member_id", "plan__kind", "plan__position", "pk")
    )
    for row in rows:
        found[row.member_id].append(row.plan.display_name)
    return dict(found)


def subscription_list(*, organization: Organization, status: str = "live") -> QuerySet:
    """The organization's subscriptions for the Features page: live ones (default) or
    ended ones, soonest period end first."""
    rows = Subscription.objects.for_org(organization).select_related("plan", "member")
    if status == "ended":
        return rows.exclude(status__in=Subscription.LIVE).order_by("-period_end", "-pk")
    return rows.filter(status__in=Subscription.LIVE).order_by("period_end", "pk")


def subscription_of(*, organization: Organization, subscription_id: int) -> Subscription | None:
    return (
        Subscription.objects.for_org(organization)
        .select_related("plan", "member")
        .filter(pk=subscription_id)
        .first()
    )


def subscription_renewals(*, organization: Organization, subscription: Subscription) -> QuerySet:
    return Renewal.objects.for_org(organization).filter(subscription=subscription)


@dataclass(frozen=True)
class FeatureCounts:
    live: int
    due_soon: int


def feature_counts(*, organization: Organization, days: int = 7) -> FeatureCounts:
    """Live features and how many of them renew in the next `days` days (one query)."""
    soon = timezone.now() + datetime.timedelta(days=days)
    counts = Subscription.objects.for_org(organization).aggregate(
        live=Count("pk", filter=Q(status__in=Subscription.LIVE)),
        due_soon=Count(
            "pk",
            filter=Q(
                status__in=Subscription.LIVE,
                auto_renew=True,
                cancel_at_period_end=False,
                period_end__lte=soon,
            ),
        ),
    )
    return FeatureCounts(live=counts["live"], due_soon=counts["due_soon"])


@dataclass(frozen=True)
class Access:
    may_call: bool = True
    may_sms: bool = True
    may_numbers: bool = True
    may_voicemail: bool = True


def member_access(*, organization: Organization, member: Member) -> Access:
    """What the member may use (the defaults when no row was saved yet)."""
    row = (
        MemberFeatures.objects.for_org(organization)
        .filter(member=member)
        .values(*ACCESS_FIELDS)
        .first()
    )
    return Access(**row) if row else Access()


def live_features_of(*, organization: Organization, member: Member) -> list[Subscription]:
    """The member's live subscriptions (what their removal must decide about)."""
    return list(
        Subscription.objects.for_org(organization)
        .filter(member=member, status__in=Subscription.LIVE)
        .select_related("plan")
        .order_by("pk")
    )


def assigned_with_form_key(*, organization: Organization, form_key: str) -> bool:
    """Whether the assign form with this one-time key was confirmed before."""
    return (
        bool(form_key)
        and Subscription.objects.for_org(organization).filter(form_key=form_key).exists()
    )
