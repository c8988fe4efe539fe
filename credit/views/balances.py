"""Seeing credit: the overview, the live balances, and the pieces of credit shown on
other apps' pages (the organization home, the directory, a member's details), which
CreditConfig.ready() registers with organizations.extensions and members.extensions.

Finance, admins and owners read all of it; the shortcuts each person sees follow the role
matrix (and, for buying, the owners' choice of finance members who may buy).
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from credit.selectors.balances import may_buy, member_balances, member_credit
from credit.selectors.history import transfer_history
from credit.selectors.ledger import organization_balances
from organizations.roles import ROLE_MATRIX, Role

RECENT_MOVEMENTS = 10

# (URL name, label, what it is for), in the order the overview shows them.
SHORTCUTS = (
    ("credit:buy", _("Buy credit"), _("By card, PayPal or bank transfer.")),
    ("credit:allocate", _("Allocate"), _("Give credit to members.")),
    ("credit:take-back", _("Take back"), _("Return members' credit to the company.")),
    ("credit:history", _("History"), _("Every movement of credit.")),
    ("credit:purchase-list", _("Purchases"), _("Purchases and receipts.")),
    ("credit:auto-recharge", _("Automatic recharge"), _("Buy credit when the balance runs low.")),
    ("credit:rule-list", _("Rules"), _("Monthly credit and members' recharges.")),
    ("credit:settings", _("Settings"), _("Billing details and alerts.")),
)


def _shortcuts(request) -> list[dict]:
    role = Role(request.member.role)
    shortcuts = []
    for url_name, label, description in SHORTCUTS:
        if url_name == "credit:buy":
            allowed = may_buy(organization=request.org, member=request.member)
        else:
            allowed = ROLE_MATRIX[url_name].allows(role, "GET")
        if allowed:
            url = reverse(url_name, kwargs={"org_slug": request.org.slug})
            shortcuts.append({"url": url, "label": label, "description": description})
    return shortcuts


def overview(request):
    """The company balance, what members hold, what is owed; shortcuts; the latest moves."""
    return render(
        request,
        "credit/overview.html",
        {
            "balances": organization_balances(request.org),
            "shortcuts": _shortcuts(request),
            "movements": transfer_history(organization=request.org)[:RECENT_MOVEMENTS],
        },
    )


def balances(request):
    """The balances alone: the overview and the home poll this every few seconds (htmx)."""
    return render(
        request, "credit/_balances.html", {"balances": organization_balances(request.org)}
    )


# --- Pieces shown on other apps' pages ---------------------------------------------------------


def home_panel(request) -> dict:
    """The credit panel of the organization home."""
    role = Role(request.member.role)
    return {
        "balances": organization_balances(request.org),
        "can_allocate": ROLE_MATRIX["credit:allocate"].allows(role, "GET"),
        "can_buy": may_buy(organization=request.org, member=request.member),
    }


def directory_balances(organization, members) -> dict:
    """The directory's balance column: one query for the whole page."""
    return member_balances(organization=organization, members=members)


def member_panel(request, member) -> dict:
    """The credit panel of a member's details page."""
    return {
        "subject": member,
        "credit": member_credit(organization=request.org, member=member),
        "can_manage": ROLE_MATRIX["credit:member-credit"].allows(Role(request.member.role), "GET"),
    }
