"""The employee's own page ("My account") and leaving the organization; finance dashboards come
with the reports work."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit.selectors.balances import member_credit
from credit.selectors.history import member_transfers
from members.selectors.directory import member_is_last_owner, member_lists_of
from members.services.membership import member_leave
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from subscriptions.forms.numbers import CallerIdForm, ForwardingForm, GreetingForm
from subscriptions.selectors.features import member_features
from subscriptions.selectors.phone import member_features_of, member_numbers, member_voicemails
from usage.views.panels import my_usage

MY_MOVEMENTS_PAGE_SIZE = 20


def my_account(request):
    """The member's own page: profile, lists, their features, their credit and its movements
    (20 a page), their usage (this month's spend, minutes left, latest calls and messages),
    and their phone: numbers, voicemails, forwarding, greeting and caller ID."""
    organization, member = request.org, request.member
    movements = Paginator(
        member_transfers(organization=organization, member=member), MY_MOVEMENTS_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/my_account.html",
        {
            "my_lists": member_lists_of(organization=organization, member=member),
            "my_credit": member_credit(organization=organization, member=member),
            "movements": movements,
            **my_usage(request),
            **_phone(organization, member),
            "my_features": member_features(organization=organization, member=member),
        },
    )


def _phone(organization, member) -> dict:
    """The "Phone" section: the member's numbers and voicemails, and their settings' forms."""
    features = member_features_of(organization=organization, member=member)
    usable = member_numbers(organization=organization, member=member, usable=True)
    return {
        "my_numbers": list(member_numbers(organization=organization, member=member)),
        "my_voicemails": list(member_voicemails(organization=organization, member=member)[:50]),
        "forwarding_form": ForwardingForm(
            initial={"forwarding_number": features.forwarding_number if features else ""}
        ),
        "greeting_form": GreetingForm(
            initial={"greeting_text": features.greeting_text if features else ""}
        ),
        "has_greeting_audio": bool(features and features.greeting_audio_type),
        "caller_id_form": CallerIdForm(
            numbers=usable, initial={"caller_id": features.caller_id_id if features else None}
        ),
    }


@require_http_methods(["GET", "POST"])
def leave(request):
    """GET: what leaving means, and a button; POST: leave. The last owner cannot."""
    if request.method == "GET":
        return render(
            request,
            "dashboard/member_leave.html",
            {
                "is_last_owner": member_is_last_owner(
                    organization=request.org, member=request.member
                )
            },
        )
    try:
        member_leave(organization=request.org, member=request.member, ip_address=client_ip(request))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("dashboard:my-account", org_slug=request.org.slug)
    messages.success(request, _("You have left %(name)s.") % {"name": request.org.name})
    return redirect("organizations:choose")
