"""The monthly report by email: subscribe or unsubscribe oneself; owners and admins see who
gets it."""

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dashboard.services.schedules import (
    SEND_HOUR,
    report_schedule_of,
    report_schedule_subscribe,
    report_schedule_subscribers,
    report_schedule_unsubscribe,
)
from organizations.roles import Role
from skypemgr.errors import ApplicationError


@require_http_methods(["GET", "POST"])
def schedule(request):
    """GET: whether the visitor gets the monthly report (and, for owners and admins, who
    does). POST `action=subscribe` or `action=unsubscribe`."""
    organization, member = request.org, request.member
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "subscribe":
                report_schedule_subscribe(organization=organization, actor=member)
                messages.success(
                    request, _("You will receive the monthly report by email on the 1st.")
                )
            elif action == "unsubscribe":
                report_schedule_unsubscribe(organization=organization, actor=member)
                messages.success(request, _("You will no longer receive the monthly report."))
            else:
                messages.error(request, _("Choose to receive the report or to stop it."))
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("dashboard:schedule", org_slug=organization.slug)
    mine = report_schedule_of(organization=organization, member=member)
    sees_all = Role(member.role).at_least(Role.ADMIN)
    return render(
        request,
        "dashboard/schedule.html",
        {
            "subscribed": bool(mine and mine.active),
            "subscribers": (
                report_schedule_subscribers(organization=organization) if sees_all else None
            ),
            "send_time": datetime.time(SEND_HOUR),
        },
    )
