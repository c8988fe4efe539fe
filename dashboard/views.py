"""The employee's own page ("My account"); finance dashboards come with the reports work."""

from django.shortcuts import render


def my_account(request):
    return render(request, "dashboard/my_account.html")


def leave(request):
    """Placeholder: filled by the directory/lists work (leave the organization)."""
    from django.http import Http404

    raise Http404
