"""The API keys page of the settings (owners and admins): the keys, creating one (its secret
shown once, on the answer to the form, never stored), and revoking one after a confirmation
page."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error
from usage.forms.api_keys import ApiKeyCreateForm
from usage.models import ApiKey
from usage.selectors.api_keys import api_keys_list
from usage.services import api_keys as services


@require_GET
def api_key_list(request):
    return render(
        request, "usage/api_key_list.html", {"keys": api_keys_list(organization=request.org)}
    )


@require_http_methods(["GET", "POST"])
def api_key_create(request):
    """GET: the form. POST: create the key and show it, once: the answer is never stored by
    a browser or a proxy, and the key cannot be shown again."""
    form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            key, plaintext = services.api_key_create(
                organization=request.org,
                actor=request.member,
                name=form.cleaned_data["name"],
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            form_error(form, error, fallback="name")
        else:
            response = render(
                request, "usage/api_key_created.html", {"key": key, "plaintext": plaintext}
            )
            response["Cache-Control"] = "private, no-store"
            return response
    return render(request, "usage/api_key_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
def api_key_revoke(request, key_id: int):
    """GET: confirm; POST: revoke. Systems using the key are refused from the next request."""
    key = get_object_or_404(
        ApiKey.objects.for_org(request.org).select_related("created_by"), pk=key_id
    )
    if request.method == "GET":
        return render(request, "usage/api_key_revoke.html", {"key": key})
    try:
        services.api_key_revoke(
            organization=request.org,
            actor=request.member,
            key=key,
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The key “%(name)s” is revoked: it no longer works.") % {"name": key.name}
        )
    return redirect("usage:api-key-list", org_slug=request.org.slug)
