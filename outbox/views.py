"""The development outbox: every email and SMS sent, newest first, with the files emails
carried (only with DEV_OUTBOX on)."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from outbox.attachments import attachment_build, attachment_references
from outbox.models import OutboundMessage


def _require_dev_outbox() -> None:
    if not settings.DEV_OUTBOX:
        raise Http404


def outbox_list(request: HttpRequest) -> HttpResponse:
    _require_dev_outbox()
    messages = OutboundMessage.objects.order_by("-created_at", "-id")
    channel = request.GET.get("channel")
    if channel in OutboundMessage.Channel.values:
        messages = messages.filter(channel=channel)
    page = Paginator(messages, 25).get_page(request.GET.get("page"))
    return render(request, "outbox/outbox_list.html", {"page": page, "channel": channel or ""})


@xframe_options_sameorigin
def outbox_html(request: HttpRequest, pk: int) -> HttpResponse:
    _require_dev_outbox()
    message = get_object_or_404(OutboundMessage, pk=pk, channel=OutboundMessage.Channel.EMAIL)
    if not message.html:
        raise Http404
    return HttpResponse(message.html)


@require_GET
def outbox_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A file an email names (the first, or the `file`-th from 0), built now as it was when
    sent (in the email's language)."""
    _require_dev_outbox()
    message = get_object_or_404(OutboundMessage, pk=pk, channel=OutboundMessage.Channel.EMAIL)
    references = attachment_references(message.attachment)
    position = request.GET.get("file", "0")
    if not (position.isascii() and position.isdigit() and int(position) < len(references)):
        raise Http404
    with translation.override(message.language or settings.LANGUAGE_CODE):
        document = attachment_build(references[int(position)])
    if document is None:
        raise Http404
    response = HttpResponse(document.content, content_type=document.mimetype)
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    return response
