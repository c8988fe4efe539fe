"""The in-app notice of invitations waiting for the signed-in person."""

from members.selectors.invitations import invitations_for_user
from skypemgr.context_processors import draws_the_layout


def invitations(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/admin/"):
        return {}
    if not draws_the_layout(request):
        return {}
    return {"pending_invitations": invitations_for_user(user)}
