"""Reads behind the reports' filters for exports: whom a filter narrows to (as report_build
reads it), and a filter put in words (for files, emails and lists of exports).

Always given the organization; never writes.
"""

from django.db.models import Q
from django.utils.translation import gettext as _

from dashboard.reports import ReportFilters
from members.models import ListMembership, MemberList
from organizations.models import Member, Organization
from usage.selectors.usage import category_label

# Every category but calls to one country (see dashboard.forms.CategoryField).
CALLS = "calls"


def members_filtered(*, organization: Organization, filters: ReportFilters) -> Q:
    """A condition on `member_id` that keeps the members `filters` narrows to (list,
    department, member); an empty Q when it narrows to nobody in particular."""
    condition = Q()
    if filters.member_id:
        condition &= Q(member_id=filters.member_id)
    if filters.member_list_id:
        condition &= Q(
            member_id__in=ListMembership.objects.for_org(organization)
            .filter(member_list_id=filters.member_list_id)
            .values("member_id")
        )
    if filters.department:
        condition &= Q(
            member_id__in=Member.objects.for_org(organization)
            .filter(department=filters.department)
            .values("pk")
        )
    return condition


def category_name(category: str) -> str:
    if category == CALLS:
        return _("Calls")
    if category == "sms":
        return _("Messages (SMS)")
    return category_label(category)


def report_filters_describe(
    *, organization: Organization, filters: ReportFilters
) -> list[tuple[str, str]]:
    """Each filter in use as (label, value), in the active language: [("List", "Sales"),
    ("Category", "Calls to France")]. Empty when the report covers everything. Two queries at
    most (the list's name, the member's)."""
    described = []
    if filters.member_list_id:
        found = MemberList.objects.for_org(organization).filter(pk=filters.member_list_id).first()
        described.append((_("List"), found.name if found else _("(deleted list)")))
    if filters.department:
        described.append((_("Department"), filters.department))
    if filters.member_id:
        found = Member.objects.for_org(organization).filter(pk=filters.member_id).first()
        described.append((_("Member"), str(found) if found else _("(unknown member)")))
    if filters.category:
        described.append((_("Category"), category_name(filters.category)))
    return described


def report_filters_text(*, organization: Organization, filters: ReportFilters) -> str:
    """The filters in one line ("List: Sales · Category: SMS"), or "Everything"."""
    described = report_filters_describe(organization=organization, filters=filters)
    if not described:
        return _("Everyone, every category")
    return " · ".join(f"{label}: {value}" for label, value in described)
