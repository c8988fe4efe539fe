"""Twilio's webhooks for online numbers: public (Twilio signs them; no session, no CSRF
token), POST only, and refused with 403 before anything is read or written when the
signature does not match what Twilio signed: SITE_URL + the path and query (the address
Twilio was given, whatever proxy stands in front of us).

The greeting URL is public too (Twilio fetches it while a caller waits) and carries its own
signed, expiring token instead.
"""

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.request_validator import RequestValidator

from subscriptions.services import voice


def signed_by_twilio(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    url = settings.SITE_URL + request.get_full_path()
    return validator.validate(url, request.POST.dict(), signature)


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def voice_webhook(request):
    """A call to one of our numbers (and the Dial and Record actions of that call)."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden("Bad signature", content_type="text/plain")
    return _twiml(voice.incoming_call_twiml(request.POST.dict()))


@csrf_exempt
@require_POST
def recording_webhook(request):
    """A voicemail's recording is ready."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden("Bad signature", content_type="text/plain")
    voice.recording_receive(
        subscription_id=request.GET.get("subscription", ""),
        caller=request.GET.get("from", ""),
        params=request.POST.dict(),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def call_status_webhook(request):
    """Call progress of our numbers; verified and acknowledged (usage ingestion reads it)."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden("Bad signature", content_type="text/plain")
    return HttpResponse(status=204)


@require_GET
def greeting_audio(request, token: str):
    """A member's uploaded greeting, for Twilio to play to a caller."""
    features = voice.greeting_for_token(token)
    if features is None:
        raise Http404
    response = HttpResponse(
        bytes(features.greeting_audio), content_type=features.greeting_audio_type
    )
    response["Cache-Control"] = "private, max-age=300"
    return response
