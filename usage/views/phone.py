"""The Phone page: a member calls from the browser (Twilio's Voice JavaScript SDK, vendored),
sees their balance and, as they type a number, its price per minute and how long they can call.

- `phone`: the page. Without JavaScript its form shows the price of the number sent.
- `phone_price`: the price of the number typed (htmx, while typing).
- `phone_token`: a short-lived access token for the SDK (JSON), for members who may call.

Only this page's Content-Security-Policy lets the browser reach Twilio (`PHONE_CSP`).
"""

import phonenumbers
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST
from djmoney.money import Money

from credit.selectors.balances import member_credit
from skypemgr.errors import ApplicationError
from usage.forms.phone import PhoneNumberForm
from usage.pricing import LONGEST_CALL
from usage.selectors.allowance import member_allowance
from usage.services.phone import phone_refusal, phone_token_mint


def duration_text(seconds: int) -> str:
    """12 min 40 s; 45 s; 2 h 5 min."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes and seconds:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    if minutes:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(seconds)d s") % {"seconds": seconds}


def _rate_shown(price: Money | None) -> Money | None:
    """A price per minute with all its digits (€0.0123, not €0.01)."""
    if price is None:
        return None
    return Money(price.amount, price.currency, format_options={"decimal_quantization": False})


def _price(request, form: PhoneNumberForm) -> dict:
    """What the page says about the number in `form`: nothing yet, why it is not a number, or
    its price and the time the member can afford (the usage core's allowance)."""
    if not form.is_bound or not form.is_valid():
        return {}
    digits = form.cleaned_data["number"]
    if not digits:
        return {}
    allowance = member_allowance(
        organization=request.org, member=request.member, destination=f"+{digits}"
    )
    number = phonenumbers.format_number(
        phonenumbers.parse(f"+{digits}"), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return {
        "allowance": allowance,
        "number": number,
        "e164": f"+{digits}",
        "per_minute": _rate_shown(allowance.per_minute),
        "call_time": duration_text(allowance.seconds),
        "longest_call": allowance.seconds >= LONGEST_CALL,
        # An unlimited plan includes more seconds than any call lasts.
        "all_included": allowance.included_seconds >= allowance.seconds > 0,
        "included_time": duration_text(min(allowance.included_seconds, allowance.seconds)),
    }


def _texts() -> dict[str, str]:
    """What the page's script says (call states and errors), in the member's language."""
    return {
        "connecting": _("Connecting…"),
        "ringing": _("Ringing…"),
        "in_call": _("In call"),
        "ended": _("Call ended"),
        "muted": _("Muted"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "token_failed": _("The phone could not start. Reload the page and try again."),
        "network": _("The connection to the phone service was lost. Check your network."),
        "microphone": _(
            "Your browser did not give the page your microphone. Allow it in the browser's "
            "site settings, then call again."
        ),
        "no_microphone": _("No microphone was found. Plug one in, then call again."),
        "busy": _("The line is busy."),
        "no_answer": _("Nobody answered."),
        "declined": _("The call was declined."),
        "refused": _("The call was refused: check your credit and the number."),
        "failed": _("The call failed. Try again in a moment."),
        "unsupported": _("This browser cannot make calls. Use a recent Chrome, Firefox or Safari."),
    }


@csp_override(settings.PHONE_CSP)
@require_GET
def phone(request):
    """The Phone page: balance, number field and dial pad, the number's price (when the form
    was sent without JavaScript), and the call controls when the member may call."""
    organization, member = request.org, request.member
    form = PhoneNumberForm(request.GET or None, organization=organization)
    refusal = phone_refusal(organization=organization, member=member)
    return render(
        request,
        "usage/phone.html",
        {
            "form": form,
            "credit": member_credit(organization=organization, member=member),
            "refusal": refusal,
            "texts": _texts(),
            **_price(request, form),
        },
    )


@require_GET
def phone_price(request):
    """The price of the number typed and the time the member can afford (htmx partial)."""
    form = PhoneNumberForm(request.GET, organization=request.org)
    return render(request, "usage/_phone_price.html", {"form": form, **_price(request, form)})


@require_POST
def phone_token(request):
    """{token, identity, expires_in} for the member's browser phone; 403 (may not call) or
    503 (calling is not set up) with a message otherwise."""
    try:
        minted = phone_token_mint(organization=request.org, member=request.member)
    except ApplicationError as error:
        status = 503 if error.code == "not_configured" else 403
        return JsonResponse({"error": error.code, "message": error.message}, status=status)
    return JsonResponse(
        {"token": minted.token, "identity": minted.identity, "expires_in": minted.expires_in}
    )
