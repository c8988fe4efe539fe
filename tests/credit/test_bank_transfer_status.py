"""A bank transfer's page follows the purchase like the card return page does: it polls the same
status partial, which shows the bank details while the transfer is awaited and the outcome once
staff confirm it (or it fails), and stops polling then."""

import pytest
from django.urls import reverse

from credit.services.purchases import (
    purchase_bank_transfer_confirm,
    purchase_create,
    purchase_fail,
)


def url(name, purchase) -> str:
    return reverse(
        name, kwargs={"org_slug": purchase.organization.slug, "purchase_id": purchase.pk}
    )


@pytest.fixture
def transfer(org, owner):
    return purchase_create(organization=org, actor=owner, method="bank_transfer", amount=120)


def polls(html: str, purchase) -> bool:
    return f'hx-get="{url("credit:purchase-status", purchase)}"' in html


def test_the_page_of_an_awaited_transfer_polls_its_status(owner, login, transfer):
    page = login(owner).get(url("credit:purchase-detail", transfer)).content.decode()
    assert polls(page, transfer)
    assert 'hx-trigger="every 10s"' in page
    assert transfer.reference in page
    assert 'id="purchase-badge"' in page


def test_while_awaited_the_status_shows_the_bank_details(owner, login, transfer):
    part = login(owner).get(url("credit:purchase-status", transfer)).content.decode()
    assert polls(part, transfer)
    assert transfer.reference in part
    assert "Pay by bank transfer" in part
    assert "Payment processing" not in part
    assert "hx-swap-oob" in part


def test_once_confirmed_the_status_shows_the_credit_and_stops(owner, login, transfer):
    assert purchase_bank_transfer_confirm(purchase=transfer, staff_label="Staff")
    part = login(owner).get(url("credit:purchase-status", transfer)).content.decode()
    assert "Payment received: €120.00 added to the company balance." in part
    assert not polls(part, transfer)
    assert "hx-trigger" not in part
    # The badge at the top of the page follows (an out-of-band swap).
    assert 'id="purchase-badge" hx-swap-oob="true"' in part
    assert "Paid" in part

    page = login(owner).get(url("credit:purchase-detail", transfer)).content.decode()
    assert not polls(page, transfer)


def test_a_failed_transfer_stops_polling(owner, login, transfer):
    purchase_fail(purchase=transfer, reason="Never arrived.")
    part = login(owner).get(url("credit:purchase-status", transfer)).content.decode()
    assert "The payment did not go through." in part
    assert not polls(part, transfer)


def test_a_card_payment_still_polls_every_two_seconds(org, owner, login):
    card = purchase_create(organization=org, actor=owner, method="card", amount=50)
    part = login(owner).get(url("credit:purchase-status", card)).content.decode()
    assert 'hx-trigger="every 2s"' in part
    assert "Payment processing" in part
    assert "hx-swap-oob" not in part
