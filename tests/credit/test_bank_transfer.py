"""Bank transfers: the instructions, and platform staff confirming receipt in Django admin."""

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from credit.models import Account, Purchase, Transfer
from credit.services.ledger import system_account
from credit.services.purchases import purchase_create
from credit.services.stripe_gateway import method_choices
from organizations.models import AuditEvent
from outbox.models import OutboundMessage
from tests.factories import PurchaseFactory

CHANGELIST = "/admin/credit/purchase/"


@pytest.fixture
def staff(platform_staff) -> Client:
    return platform_staff


def confirm(staff, *purchases):
    return staff.post(
        CHANGELIST,
        {
            "action": "confirm_bank_transfer",
            "_selected_action": [purchase.pk for purchase in purchases],
            "index": 0,
        },
        follow=True,
    )


def company(org) -> Money:
    return system_account(org, Account.Kind.ORGANIZATION).balance


def test_the_instructions_use_the_configured_account(org, owner, login, settings):
    settings.BANK_TRANSFER_DETAILS = {
        "holder": "SkypeMgr SAS",
        "iban": "FR76 1234 5678 9012 3456 7890 123",
        "bic": "ABCDFRPP",
        "bank": "Banque Exemple",
    }
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=120)

    page = (
        login(owner)
        .get(
            reverse(
                "credit:purchase-detail", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
            )
        )
        .content.decode()
    )

    for text in ("SkypeMgr SAS", "FR76 1234 5678 9012 3456 7890 123", "ABCDFRPP", "Banque Exemple"):
        assert text in page
    assert purchase.reference in page
    assert "€120.00" in page
    assert "not real" not in page


def test_the_demo_says_its_bank_details_are_not_real(org, owner, login, settings):
    settings.BANK_TRANSFER_DETAILS = {"holder": "Demo", "iban": "FR76 0000 0000 0000 0000 0000 000"}
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=120)

    page = (
        login(owner)
        .get(
            reverse(
                "credit:purchase-detail", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
            )
        )
        .content.decode()
    )

    assert "these bank details are not real" in page


def test_without_bank_details_bank_transfer_is_unavailable(org, settings):
    settings.BANK_TRANSFER_DETAILS = {"holder": "Nobody", "iban": ""}

    bank = next(choice for choice in method_choices(org) if choice.value == "bank_transfer")

    assert bank.available is False
    assert "no bank account" in str(bank.reason)


def test_confirming_twice_credits_once(org, owner, staff, django_capture_on_commit_callbacks):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=200)

    with django_capture_on_commit_callbacks(execute=True):
        first = confirm(staff, purchase)
    with django_capture_on_commit_callbacks(execute=True):
        second = confirm(staff, purchase)

    assert first.status_code == second.status_code == 200
    assert "1 bank transfer confirmed" in first.content.decode()
    assert "1 purchase skipped" in second.content.decode()
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert company(org) == Money(200, "EUR")
    assert Transfer.objects.for_org(org).count() == 1
    confirmed = AuditEvent.objects.for_org(org).filter(verb="purchase.bank_transfer_confirmed")
    assert confirmed.count() == 1
    assert confirmed.get().actor_label.startswith("Platform staff")
    [email] = OutboundMessage.objects.filter(key__startswith="credit:receipt:")
    assert email.to == owner.user.email
    assert "Bank transfer received" in email.subject


def test_only_waiting_bank_transfers_are_confirmed(org, owner, staff):
    card = PurchaseFactory(organization=org, method="card", reference="")
    bank = PurchaseFactory(organization=org)

    response = confirm(staff, card, bank)

    content = response.content.decode()
    assert "1 bank transfer confirmed" in content
    assert "1 purchase skipped" in content
    card.refresh_from_db()
    assert card.status == Purchase.Status.PENDING
    assert company(org) == Money(100, "EUR")


def test_the_admin_is_read_only(org, owner, staff):
    purchase = PurchaseFactory(organization=org)

    assert staff.get(CHANGELIST).status_code == 200
    assert staff.get(f"{CHANGELIST}{purchase.pk}/change/").status_code == 200
    assert staff.get(f"{CHANGELIST}add/").status_code == 403
    assert staff.post(f"{CHANGELIST}{purchase.pk}/delete/", {"post": "yes"}).status_code == 403
    for model in ("account", "transfer", "stripeevent", "creditsettings"):
        assert staff.get(f"/admin/credit/{model}/").status_code == 200
        assert staff.get(f"/admin/credit/{model}/add/").status_code == 403
