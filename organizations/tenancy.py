"""The one way into an organization's pages: /o/<org_slug>/… .

`tenant_urls()` mounts the URL modules of the apps under the organization prefix and wraps
every view in `tenant_view`, which, before the view runs:

1. sends anonymous visitors to the login page (for every slug, existing or not);
2. finds the organization and the visitor's *active* membership, and answers 404 when either
   is missing, so that outsiders cannot tell a real organization from a missing one;
3. checks the membership's role against the view's entry in `ROLE_MATRIX` (403 for members
   whose role is too low: they know the organization exists; 405 for a method nobody may use).
   The 403 is answered, not raised: it is a refusal, not an error, so Django logs it as one
   line ("Forbidden: /o/…") without a traceback;
4. sets `request.org` and `request.member` and runs the view, and renders its response,
   inside the organization's scope.

A URL pattern without a name, or whose name has no entry in the matrix, stops the project at
start-up: a view cannot be mounted without its check.
"""

import functools
from importlib import import_module

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, include, path
from django.views.defaults import permission_denied

from organizations.models import Member, Organization
from organizations.roles import ROLE_MATRIX, Access
from organizations.scoping import tenant_scope

ORG_PREFIX = "o/<slug:org_slug>/"


def resolve_membership(request, org_slug: str) -> tuple[Organization, Member]:
    """The organization and the visitor's active membership, or Http404."""
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None:
        raise Http404
    member = (
        Member.objects.for_org(organization)
        .filter(user=request.user, status=Member.Status.ACTIVE)
        .first()
    )
    if member is None:
        raise Http404
    return organization, member


def tenant_view(view, *, url_name: str, access: Access):
    @functools.wraps(view)
    def wrapper(request, org_slug, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        organization, member = resolve_membership(request, org_slug)
        if access.required_for(request.method) is None:
            return HttpResponseNotAllowed(access.allowed_methods())
        if not access.allows(member.role, request.method):
            return permission_denied(request, PermissionDenied())
        request.org = organization
        request.member = member
        with tenant_scope(organization):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    wrapper.tenant_url_name = url_name
    wrapper.tenant_access = access
    return wrapper


def _wrap(patterns, namespace: str) -> list:
    wrapped = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            raise ImproperlyConfigured(
                f"{namespace}: nested includes are not supported under the organization prefix."
            )
        if not isinstance(pattern, URLPattern) or not pattern.name:
            raise ImproperlyConfigured(
                f"{namespace}: every organization URL needs a name ({pattern.pattern})."
            )
        url_name = f"{namespace}:{pattern.name}"
        if url_name not in ROLE_MATRIX:
            raise ImproperlyConfigured(
                f"{url_name} has no entry in organizations.roles.ROLE_MATRIX."
            )
        wrapped.append(
            URLPattern(
                pattern.pattern,
                tenant_view(pattern.callback, url_name=url_name, access=ROLE_MATRIX[url_name]),
                pattern.default_args,
                pattern.name,
            )
        )
    return wrapped


def app_urls(module_path: str):
    """Mount an app's URL module: its public `urlpatterns` as they are, and its
    `org_urlpatterns` under /o/<org_slug>/, each behind `tenant_view`, in one namespace."""
    module = import_module(module_path)
    namespace = module.app_name
    public = list(getattr(module, "urlpatterns", []))
    for pattern in public:
        if str(pattern.pattern).startswith(("o/", "/o/")):
            raise ImproperlyConfigured(
                f"{namespace}: organization pages belong in org_urlpatterns ({pattern.pattern})."
            )
    tenant = _wrap(getattr(module, "org_urlpatterns", []), namespace)
    patterns = [*public, path(ORG_PREFIX, include(tenant))] if tenant else public
    return path("", include((patterns, namespace), namespace=namespace))
