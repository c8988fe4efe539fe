"""Places on the organization's pages that apps above this one fill in, their part of the
demo company, and what they do when an organization is created or changes currency.

The organizations app imports no other app, yet its home page shows what they own (the credit
balance, later features and spend). An app registers a panel here, usually from its
AppConfig.ready(); the home view renders every panel the visitor's role may see.

A panel is a template and a function: `context(request)` returns the dict the template
receives as `panel`. Keep the function to one or two queries: it runs on every visit.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from organizations.roles import Role


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    context: Callable[[HttpRequest], dict]
    # The lowest role that sees the panel.
    role: Role = Role.FINANCE


# In registration order, by key: registering a key again replaces its panel.
HOME_PANELS: dict[str, HomePanel] = {}


def register_home_panel(
    key: str, *, template: str, context: Callable[[HttpRequest], dict], role: Role = Role.FINANCE
) -> None:
    HOME_PANELS[key] = HomePanel(key=key, template=template, context=context, role=role)


def home_panels_for(request) -> list[dict]:
    """The panels the visitor may see, each as {"key", "template", "context"}."""
    role = Role(request.member.role)
    return [
        {"key": panel.key, "template": panel.template, "context": panel.context(request)}
        for panel in HOME_PANELS.values()
        if role.at_least(panel.role)
    ]


# --- Links on the organization settings page ----------------------------------------------

# Other apps' settings pages, listed under "More settings" for the roles that may read them
# (the role matrix of their URL name decides).


@dataclass(frozen=True)
class SettingsLink:
    key: str
    label: str
    description: str
    url_name: str


SETTINGS_LINKS: dict[str, SettingsLink] = {}


def register_settings_link(key: str, *, label, description, url_name: str) -> None:
    SETTINGS_LINKS[key] = SettingsLink(
        key=key, label=label, description=description, url_name=url_name
    )


def settings_links_for(request) -> list[dict]:
    """The links the visitor's role may open, each as {"label", "description", "url"}."""
    from django.urls import reverse

    from organizations.roles import ROLE_MATRIX

    role = Role(request.member.role)
    links = []
    for link in SETTINGS_LINKS.values():
        access = ROLE_MATRIX.get(link.url_name)
        if access is None or not access.allows(role, "GET"):
            continue
        links.append(
            {
                "label": link.label,
                "description": link.description,
                "url": reverse(link.url_name, kwargs={"org_slug": request.org.slug}),
            }
        )
    return links


# --- The demo company ----------------------------------------------------------------------

# What each app adds to the demo company (`manage.py demo_data`), in registration order:
# `load(organization, people)`, where people maps a role to the demo member who has it. Runs
# once, in the transaction that creates the company, inside its tenant scope.
DEMO_LOADERS: dict[str, Callable[[object, dict], None]] = {}


def register_demo_loader(key: str, load: Callable[[object, dict], None]) -> None:
    DEMO_LOADERS[key] = load


# --- Rows other apps keep per organization -------------------------------------------------

# Called with the new organization inside the transaction that creates it (by
# organizations.services.organization_create), in registration order: an app creates the rows
# it keeps for every organization here, so that its pages never create them on a read.
ORGANIZATION_CREATED: dict[str, Callable[[object], None]] = {}
# Called with the organization and its previous currency inside the transaction that changes
# it (under the organization row's lock, before any purchase fixed it): an app moves the
# amounts it keeps for the organization (settings, rules) to the new currency.
CURRENCY_CHANGED: dict[str, Callable[[object, str], None]] = {}


def register_organization_created(key: str, hook: Callable[[object], None]) -> None:
    ORGANIZATION_CREATED[key] = hook


def register_currency_changed(key: str, hook: Callable[[object, str], None]) -> None:
    CURRENCY_CHANGED[key] = hook


def organization_created(organization) -> None:
    for hook in ORGANIZATION_CREATED.values():
        hook(organization)


def currency_changed(organization, previous: str) -> None:
    for hook in CURRENCY_CHANGED.values():
        hook(organization, previous)
