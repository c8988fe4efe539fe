"""Response headers that every page gets: no caching of private pages, and browser features
denied unless the product uses them."""

from django.conf import settings


def _permissions_policy(policy: dict[str, list[str]]) -> str:
    """{"camera": [], "microphone": ["self"]} -> 'camera=(), microphone=(self)'."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items())


class PrivacyHeadersMiddleware:
    """`Cache-Control: private, no-store` on everything a signed-in person sees and on every
    download, so that neither a shared proxy nor the browser's history keeps a copy (a receipt,
    a member list, a balance); and `Permissions-Policy` on every response.

    A view that already forbids storing (`no-store`, e.g. `never_cache`) keeps its own header.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = _permissions_policy(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        if self._private(request, response) and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "private, no-store"
        return response

    @staticmethod
    def _private(request, response) -> bool:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return True
        return response.get("Content-Disposition", "").lower().startswith("attachment")
