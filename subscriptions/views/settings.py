"""The feature settings: the organization's renewal policy. Owners change it; admins and
finance read it (the form shown disabled)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from organizations.roles import Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error
from subscriptions.forms.settings import FeatureSettingsForm
from subscriptions.services.settings import feature_settings, feature_settings_update


@require_http_methods(["GET", "POST"])
def feature_settings_view(request):
    organization = request.org
    row = feature_settings(organization)
    can_edit = request.member.role == Role.OWNER
    initial = {
        "grace_days": row.grace_days,
        "number_hold_days": row.number_hold_days,
        "renew_min_balance": row.renew_min_balance,
        "notice_days": row.notice_days,
        "notice_threshold": row.notice_threshold,
    }
    form = FeatureSettingsForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        organization=organization,
    )
    if request.method == "POST" and form.is_valid():
        values = {
            name: (value.amount if hasattr(value, "amount") else value)
            for name, value in form.cleaned_data.items()
        }
        try:
            feature_settings_update(
                organization=organization,
                actor=request.member,
                ip_address=client_ip(request),
                **values,
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Feature settings saved."))
            return redirect(
                reverse("subscriptions:settings", kwargs={"org_slug": organization.slug})
            )
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "subscriptions/feature_settings.html",
        {"form": form, "can_edit": can_edit, "settings_row": row},
    )
