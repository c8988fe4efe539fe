"""Taking credit back carries a note, like giving it: from a member's own page and from the
take-back page; a member's details page offers both "give" and "take back"."""

import pytest
from django.urls import reverse
from djmoney.money import Money

from credit.forms.allocation import new_key
from credit.models import Transfer
from tests.credit.rules_support import balance_of, fund, give


@pytest.fixture
def holding(org, employee):
    fund(org, Money(100, "EUR"))
    give(org, employee, Money(40, "EUR"))
    return employee


def taken_back(org) -> list[Transfer]:
    return list(Transfer.objects.for_org(org).filter(kind="take_back").order_by("pk"))


def test_take_back_from_a_members_page_keeps_the_note(org, admin, holding, login):
    client = login(admin)
    page_url = reverse(
        "credit:member-credit", kwargs={"org_slug": org.slug, "member_id": holding.pk}
    )
    page = client.get(page_url).content.decode()
    assert 'name="take-memo"' in page

    data = {"action": "take_back", "take-how": "amount", "take-amount": "15"}
    response = client.post(
        page_url, {**data, "take-memo": "Left the sales team", "take-idempotency_key": new_key()}
    )

    assert response.status_code == 302
    [transfer] = taken_back(org)
    assert (transfer.amount, transfer.memo, transfer.actor) == (
        Money(15, "EUR"),
        "Left the sales team",
        admin,
    )
    assert balance_of(org, holding) == Money(25, "EUR")
    assert "Left the sales team" in client.get(page_url).content.decode()


def test_a_note_too_long_is_refused_and_nothing_moves(org, admin, holding, login):
    page_url = reverse(
        "credit:member-credit", kwargs={"org_slug": org.slug, "member_id": holding.pk}
    )
    data = {"action": "take_back", "take-how": "all", "take-memo": "x" * 201}
    response = login(admin).post(page_url, {**data, "take-idempotency_key": new_key()})
    assert response.status_code == 200
    assert response.context["take_form"].errors["memo"]
    assert taken_back(org) == []


def test_the_take_back_page_carries_the_note_to_the_transfers(org, admin, holding, login):
    client = login(admin)
    flow = reverse("credit:take-back", kwargs={"org_slug": org.slug})
    data = {
        "target": "selected",
        "members": [holding.pk],
        "how": "all",
        "memo": "End of the quarter",
        "idempotency_key": new_key(),
    }
    preview = client.post(flow, {**data, "step": "preview"})
    assert "End of the quarter" in preview.content.decode()

    done = client.post(
        flow, {**data, "step": "confirm", "expected": preview.context["plan"].fingerprint}
    )

    assert done.status_code == 302
    [transfer] = taken_back(org)
    assert (transfer.amount, transfer.memo) == (Money(40, "EUR"), "End of the quarter")


def test_member_details_offer_give_and_take_back(org, admin, holding, login):
    details = reverse(
        "members:member-detail", kwargs={"org_slug": org.slug, "member_id": holding.pk}
    )
    credit = reverse("credit:member-credit", kwargs={"org_slug": org.slug, "member_id": holding.pk})

    page = login(admin).get(details).content.decode()

    assert f'href="{credit}#give"' in page
    assert f'href="{credit}#take-back"' in page
    credit_page = login(admin).get(credit).content.decode()
    assert 'id="give"' in credit_page
    assert 'id="take-back"' in credit_page
