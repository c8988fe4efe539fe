"""Features shown on other apps' pages, registered by SubscriptionsConfig.ready(): the
organization home, the directory's Features column, a member's details, My account, and the
question a member's removal asks about their features."""

from django.urls import NoReverseMatch, reverse

from organizations.roles import ROLE_MATRIX, Role
from subscriptions.forms.manage import RemovalForm
from subscriptions.selectors.features import (
    directory_features,
    feature_counts,
    live_features_of,
    member_access,
    member_features,
)


def _allows(request, url_name: str, method: str = "GET") -> bool:
    return ROLE_MATRIX[url_name].allows(Role(request.member.role), method)


def number_buy_url(request) -> str:
    """The "Buy a number" page, when it exists (it is another part of the features)."""
    try:
        return reverse("subscriptions:number-buy", kwargs={"org_slug": request.org.slug})
    except NoReverseMatch:
        return ""


def home_panel(request) -> dict:
    return {
        "counts": feature_counts(organization=request.org, days=7),
        "can_assign": _allows(request, "subscriptions:assign"),
    }


def directory_cells(organization, members) -> dict:
    """The directory's Features column: one query for the whole page."""
    return directory_features(organization, members)


def member_panel(request, member) -> dict:
    return {
        "subject": member,
        "features": member_features(organization=request.org, member=member),
        "access": member_access(organization=request.org, member=member),
        "can_assign": _allows(request, "subscriptions:assign")
        and member.status == member.Status.ACTIVE,
        "can_change_access": _allows(request, "subscriptions:member-access", "POST"),
    }


def my_features(request) -> dict:
    """The features part of My account (the dashboard app reads it)."""
    return {"features": member_features(organization=request.org, member=request.member)}


def removal_question(request, member, data=None):
    """What happens to the member's live features; None when they have none."""
    features = live_features_of(organization=request.org, member=member)
    if not features:
        return None
    form = RemovalForm(
        data,
        organization=request.org,
        may_refund=Role(request.member.role) == Role.OWNER,
    )
    form.features = features
    return form
