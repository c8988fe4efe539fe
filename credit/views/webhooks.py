"""Stripe's webhook: public (Stripe signs it; no session, no CSRF token), POST only."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from credit.services.webhooks import stripe_webhook_receive


@csrf_exempt
@require_POST
def stripe_webhook(request):
    status = stripe_webhook_receive(
        payload=request.body, signature=request.headers.get("Stripe-Signature")
    )
    return HttpResponse(status=status, content_type="text/plain")
