"""The sections of an organization, in menu order, with the lowest role that sees each.

A section whose page does not exist yet (its issue has not landed) is left out of the menu.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from organizations.roles import ROLE_MATRIX, Role


@dataclass(frozen=True)
class Section:
    label: str | Promise
    url_name: str
    # Pages under these prefixes highlight the section.
    prefixes: tuple[str, ...]


SECTIONS = (
    Section(_("Home"), "organizations:home", ("",)),
    Section(_("Members"), "members:member-list", ("members/", "lists/")),
    Section(_("Credit"), "credit:overview", ("credit/",)),
    Section(_("Features"), "subscriptions:overview", ("features/", "rates/")),
    Section(_("Reports"), "dashboard:overview", ("reports/",)),
    Section(_("Settings"), "organizations:settings", ("settings/",)),
    Section(_("Phone"), "usage:phone", ("phone/",)),
    Section(_("My account"), "dashboard:my-account", ("me/",)),
)


def sections_for(request) -> list[dict]:
    member, organization = request.member, request.org
    base = reverse("organizations:home", kwargs={"org_slug": organization.slug})
    current = request.path[len(base) :] if request.path.startswith(base) else None
    items = []
    for section in SECTIONS:
        access = ROLE_MATRIX.get(section.url_name)
        if access is None or not access.allows(Role(member.role), "GET"):
            continue
        if section.url_name == "organizations:home" and member.role == Role.MEMBER:
            continue
        try:
            url = reverse(section.url_name, kwargs={"org_slug": organization.slug})
        except NoReverseMatch:
            continue
        active = current is not None and any(
            current.startswith(prefix) if prefix else current == "" for prefix in section.prefixes
        )
        items.append({"label": section.label, "url": url, "active": active})
    return items
