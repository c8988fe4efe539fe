"""A member's own phone settings and voicemail, shown in the "Phone" section of My account:
forwarding, greeting, caller ID (POST only; the section shows the forms), and each voicemail
(listen, download, mark listened, delete with a confirmation). Every query starts from the
member who asks: another member's voicemail is "not found", like a missing one.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from skypemgr.errors import ApplicationError
from subscriptions.forms.numbers import CallerIdForm, ForwardingForm, GreetingForm
from subscriptions.selectors.phone import member_numbers, member_voicemail
from subscriptions.services import phone as services


def _back(request):
    return redirect(request_url(request))


def request_url(request) -> str:
    from django.urls import reverse

    return reverse("dashboard:my-account", kwargs={"org_slug": request.org.slug}) + "#phone"


def _show_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@require_POST
def forwarding(request):
    form = ForwardingForm(request.POST)
    if not form.is_valid():
        _show_errors(request, form)
        return _back(request)
    number = form.cleaned_data["forwarding_number"]
    services.forwarding_set(organization=request.org, member=request.member, number=number)
    if number:
        messages.success(request, _("Your calls are forwarded to %(number)s.") % {"number": number})
    else:
        messages.success(request, _("Your calls are no longer forwarded."))
    return _back(request)


@require_POST
def greeting(request):
    form = GreetingForm(request.POST, request.FILES)
    if not form.is_valid():
        _show_errors(request, form)
        return _back(request)
    services.greeting_set(
        organization=request.org,
        member=request.member,
        text=form.cleaned_data["greeting_text"],
        audio=form.cleaned_data["greeting_audio"],
        remove_audio=form.cleaned_data["remove_audio"],
    )
    messages.success(request, _("Your voicemail greeting was saved."))
    return _back(request)


@require_POST
def caller_id(request):
    numbers = member_numbers(organization=request.org, member=request.member, usable=True)
    form = CallerIdForm(request.POST, numbers=numbers)
    if not form.is_valid():
        _show_errors(request, form)
        return _back(request)
    chosen = form.cleaned_data["caller_id"]
    try:
        services.caller_id_set(
            organization=request.org,
            member=request.member,
            subscription_id=chosen.pk if chosen else None,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back(request)
    messages.success(request, _("Your caller ID was saved."))
    return _back(request)


def _voicemail_or_404(request, voicemail_id: int):
    voicemail = member_voicemail(
        organization=request.org, member=request.member, voicemail_id=voicemail_id
    )
    if voicemail is None:
        raise Http404
    return voicemail


@require_GET
def voicemail_audio(request, voicemail_id: int):
    """The recording, to play in the page or (with ?download=1) to save."""
    voicemail = _voicemail_or_404(request, voicemail_id)
    if not voicemail.audio:
        raise Http404
    response = HttpResponse(
        bytes(voicemail.audio), content_type=voicemail.audio_type or "audio/mpeg"
    )
    extension = "wav" if "wav" in voicemail.audio_type else "mp3"
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = (
        f'{disposition}; filename="voicemail-{voicemail.pk}.{extension}"'
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def voicemail_listened(request, voicemail_id: int):
    try:
        services.voicemail_listened(
            organization=request.org, member=request.member, voicemail_id=voicemail_id
        )
    except ApplicationError as error:
        raise Http404 from error
    if request.htmx:
        return HttpResponse(status=204)
    return _back(request)


@require_http_methods(["GET", "POST"])
def voicemail_delete(request, voicemail_id: int):
    voicemail = _voicemail_or_404(request, voicemail_id)
    if request.method == "GET":
        return render(request, "subscriptions/voicemail_delete.html", {"voicemail": voicemail})
    services.voicemail_delete(
        organization=request.org, member=request.member, voicemail_id=voicemail.pk
    )
    messages.success(request, _("The voicemail was deleted."))
    return _back(request)
