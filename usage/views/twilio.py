"""Twilio's webhooks for members' calls and messages: public (Twilio signs them; no session,
no CSRF token), POST only, refused with 403 before anything is read or written when the
signature does not match (subscriptions.views.webhooks.signed_by_twilio: SITE_URL + the path
and query, whatever proxy stands in front of us)."""

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from subscriptions.views.webhooks import signed_by_twilio
from usage.services import twilio_usage


def _forbidden() -> HttpResponse:
    return HttpResponseForbidden("Bad signature", content_type="text/plain")


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def outgoing_call(request):
    """A member dials out: TwiML that connects them for what they may spend, or refuses."""
    if not signed_by_twilio(request):
        return _forbidden()
    return _twiml(twilio_usage.outgoing_call_twiml(request.POST.dict()))


@csrf_exempt
@require_POST
def outgoing_call_done(request):
    """The Dial of a member's call ended: release its hold and hang up."""
    if not signed_by_twilio(request):
        return _forbidden()
    twilio_usage.outgoing_call_done(
        organization_id=request.GET.get("o", ""), params=request.POST.dict()
    )
    return _twiml('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>')


@csrf_exempt
@require_POST
def call_status(request):
    """The dialled leg of a member's call ended: recorded once, priced, debited."""
    if not signed_by_twilio(request):
        return _forbidden()
    twilio_usage.call_status_receive(
        organization_id=request.GET.get("o", ""),
        member_id=request.GET.get("m", ""),
        params=request.POST.dict(),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def sms_status(request):
    """A member's message was sent or failed."""
    if not signed_by_twilio(request):
        return _forbidden()
    twilio_usage.sms_status_receive(
        organization_id=request.GET.get("o", ""),
        member_id=request.GET.get("m", ""),
        params={**request.POST.dict(), "reference": request.GET.get("r", "")},
    )
    return HttpResponse(status=204)
