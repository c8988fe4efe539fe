"""Reads for the purchase pages: the history with its filters, who may buy, bank details."""

import re

from django.conf import settings
from django.db.models import QuerySet

from credit.models import Purchase
from credit.selectors.settings import credit_purchasers
from organizations.models import Member, Organization
from organizations.roles import Role


def purchases_filtered(
    *, organization: Organization, status: str = "", method: str = ""
) -> QuerySet:
    """Every purchase of the organization, newest first, with automatic recharge attempts."""
    purchases = Purchase.objects.for_org(organization).select_related("created_by")
    if status:
        purchases = purchases.filter(status=status)
    if method:
        purchases = purchases.filter(method=method)
    return purchases.order_by("-created_at", "-id")


def purchasers_of(organization: Organization) -> dict:
    """Who may buy credit: the owners, and the finance members they allowed."""
    owners = Member.objects.for_org(organization).filter(
        role=Role.OWNER, status=Member.Status.ACTIVE
    )
    allowed = credit_purchasers(organization).filter(status=Member.Status.ACTIVE)
    return {"owners": list(owners), "finance": list(allowed)}


def bank_transfer_details() -> dict | None:
    """The account bank transfers are paid to (settings.BANK_TRANSFER_DETAILS), or None when
    there is none: bank transfer is then unavailable. `demo` is true for the demo's account,
    whose number is all zeros (no real account is), so that the page can say so."""
    details = dict(getattr(settings, "BANK_TRANSFER_DETAILS", None) or {})
    iban = str(details.get("iban") or "").strip()
    if not iban:
        return None
    account_digits = re.sub(r"\D", "", iban[4:])
    return {
        "holder": "",
        "bic": "",
        "bank": "",
        **details,
        "demo": not account_digits.strip("0"),
    }
