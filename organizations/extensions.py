"""Places on the organization's pages that apps above this one fill in, and their part of the
demo company.

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


# --- The demo company ----------------------------------------------------------------------

# What each app adds to the demo company (`manage.py demo_data`), in registration order:
# `load(organization, people)`, where people maps a role to the demo member who has it. Runs
# once, in the transaction that creates the company, inside its tenant scope.
DEMO_LOADERS: dict[str, Callable[[object, dict], None]] = {}


def register_demo_loader(key: str, load: Callable[[object, dict], None]) -> None:
    DEMO_LOADERS[key] = load
