"""The rates that apply to the organization (its currency), searched by country or number.
Finance, admins and owners read them; platform staff edit them in Django admin."""

import phonenumbers
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from usage.forms.rates import RateSearchForm
from usage.selectors.rates import rate_search

PAGE_SIZE = 50


@require_GET
def rate_list(request):
    """Every rate in the organization's currency (50 a page, by country name then prefix), or
    those of the searched country; for a number, the rate that applies to it first."""
    form = RateSearchForm(request.GET, organization=request.org)
    form.is_valid()
    query = form.rate_query
    results = rate_search(organization=request.org, query=query)
    page = Paginator(results.rates, PAGE_SIZE).get_page(form.value("page", 1))
    return render(
        request,
        "usage/rate_list.html",
        {
            "form": form,
            "query": query,
            "searched": bool(form.value("q")) and "q" not in form.errors,
            "applied": results.applied,
            "has_rates": results.has_rates,
            "page": page,
            "number_shown": _number_shown(query.digits),
        },
    )


def _number_shown(digits: str) -> str:
    """E.164 digits written the international way: "+33 6 12 34 56 78"."""
    if not digits:
        return ""
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return "+" + digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
