"""The organization switcher and the section menu, for the base layout."""

from organizations.navigation import sections_for
from organizations.selectors import memberships_for_user
from skypemgr.context_processors import draws_the_layout


def organizations(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {}
    if getattr(request, "org", None) is not None:
        context.update(current_org=request.org, current_member=request.member)
    if draws_the_layout(request):
        context["my_memberships"] = memberships_for_user(user)
        if "current_org" in context:
            context["org_sections"] = sections_for(request)
    return context
