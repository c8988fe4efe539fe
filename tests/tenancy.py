"""Helpers for the sweeps: every URL mounted under /o/<org_slug>/, and how to fill it in."""

import re
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from organizations.models import Member, Organization, TenantModel
from tests import factories

KWARG = re.compile(r"<(?:\w+:)?(\w+)>")

# How to fill each URL keyword other than org_slug with the id of one of the organization's
# own objects. A view with a keyword missing here fails the sweep until it is added.
OBJECT_KWARGS: dict[str, Callable[[Organization], Any]] = {
    "member_id": lambda organization: factories.MemberFactory(organization=organization).pk,
    "list_id": lambda organization: factories.MemberListFactory(organization=organization).pk,
    "invitation_id": lambda organization: factories.InvitationFactory(organization=organization).pk,
    "import_id": lambda organization: factories.MemberImportFactory(organization=organization).pk,
    "purchase_id": lambda organization: factories.PurchaseFactory(organization=organization).pk,
    "rule_id": lambda organization: factories.CreditRuleFactory(organization=organization).pk,
    # A member's own voicemail: the newest member's, the one the role sweep signs in as (its
    # pages show a member their own rows only; anyone else's answers 404).
    "voicemail_id": lambda organization: (
        factories.VoicemailFactory(
            organization=organization,
            member=Member.objects.for_org(organization).order_by("-pk").first()
            or factories.MemberFactory(organization=organization),
        ).pk
    ),
    "subscription_id": lambda organization: (
        factories.SubscriptionFactory(organization=organization).pk
    ),
    "key_id": lambda organization: factories.ApiKeyFactory(organization=organization).pk,
    "export_id": lambda organization: factories.ExportJobFactory(organization=organization).pk,
}


def all_patterns() -> list[tuple[str, URLPattern]]:
    """(full route, pattern) for every pattern in the URLconf."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            else:
                found.append((route, pattern))

    walk(get_resolver().url_patterns, "")
    return found


def tenant_url_names() -> list[str]:
    return sorted(
        {
            pattern.callback.tenant_url_name
            for _route, pattern in all_patterns()
            if hasattr(pattern.callback, "tenant_url_name")
        }
    )


def route_of(url_name: str) -> str:
    for route, pattern in all_patterns():
        if getattr(pattern.callback, "tenant_url_name", None) == url_name:
            return route
    raise LookupError(url_name)


def tenant_url(url_name: str, organization: Organization, objects_of: Organization) -> str:
    """The URL of `url_name` in `organization`, with object ids taken from `objects_of`."""
    kwargs = {"org_slug": organization.slug}
    for name in KWARG.findall(route_of(url_name)):
        if name == "org_slug":
            continue
        if name not in OBJECT_KWARGS:
            raise LookupError(f"tests.tenancy.OBJECT_KWARGS has no way to fill <{name}>")
        kwargs[name] = OBJECT_KWARGS[name](objects_of)
    return reverse(url_name, kwargs=kwargs)


def snapshot(organization: Organization) -> dict:
    """Every row the organization owns, to prove that a refused request changed nothing."""
    state = {
        "organization": Organization.objects.filter(pk=organization.pk).values().first(),
    }
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            state[model._meta.label] = list(
                model.objects.for_org(organization).order_by("pk").values()
            )
    return state
