"""The Reports section's sub-navigation (templates/dashboard/_reports_nav.html).

Each report page is listed when its URL exists (the pages land one by one: a name that does
not reverse yet is left out) and the visitor's role may read it (the role matrix).
"""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from organizations.roles import ROLE_MATRIX, Role

register = template.Library()

# (key, URL name, label), in the order of the tabs. Pages pass their key as `active`.
REPORT_PAGES = (
    ("overview", "dashboard:overview", _("Overview")),
    ("month", "dashboard:report-month", _("Monthly")),
    ("year", "dashboard:report-year", _("Annual")),
    ("exports", "dashboard:export-list", _("Exports")),
    ("scheduled", "dashboard:schedule", _("Scheduled")),
)


def report_pages(request, active: str = "") -> list[dict]:
    """The report pages the visitor may open, each as {"key", "label", "url", "active"}."""
    role = Role(request.member.role)
    pages = []
    for key, url_name, label in REPORT_PAGES:
        access = ROLE_MATRIX.get(url_name)
        if access is None or not access.allows(role, "GET"):
            continue
        try:
            url = reverse(url_name, kwargs={"org_slug": request.org.slug})
        except NoReverseMatch:
            continue
        pages.append({"key": key, "label": label, "url": url, "active": key == active})
    return pages


@register.simple_tag(takes_context=True)
def reports_nav_pages(context, active: str = "") -> list[dict]:
    """`{% reports_nav_pages active as pages %}`: see `report_pages`."""
    return report_pages(context["request"], active)
