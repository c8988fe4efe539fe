"""The ledger's own rules (issue 8, item 4, and the service side of item 1): services take
machine numbers only; an idempotency key stands for one movement; refunds and staff
corrections reverse the transfer they correct, with a memo and an audit event."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.services import ledger
from credit.services.allocation import credit_allocate
from credit.services.corrections import transfer_reverse
from credit.services.purchases import purchase_refund
from credit.services.rules import Target, credit_rule_create
from credit.services.settings import auto_recharge_update, credit_settings_update
from organizations.models import AuditEvent
from organizations.scoping import tenant_scope
from skypemgr.errors import ApplicationError
from tests.credit.rules_support import bought
from tests.factories import UserFactory
from tests.staff import admin_client

TRANSFERS = "/admin/credit/transfer/"


def eur(value) -> Money:
    return Money(Decimal(value), "EUR")


def company(org) -> Account:
    return ledger.system_account(org, Account.Kind.ORGANIZATION)


def balance(account) -> Money:
    account.refresh_from_db()
    return account.balance


# --- Services read machine numbers, not people's text ------------------------------------------

PEOPLES_TEXT = ["1,50", "1e3", "1E3", "1 000", "1,000.50", "12.5.0", "+5", "NaN", "Infinity", ""]


@pytest.mark.parametrize("value", [*PEOPLES_TEXT, 1.5, True, None])
def test_amount_of_refuses_what_is_not_a_machine_number(value):
    with pytest.raises(ApplicationError):
        ledger.amount_of(value, "EUR")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.50", "12.5"), (" 7 ", "7"), (Decimal("0.0001"), "0.0001"), (25, "25")],
)
def test_amount_of_takes_machine_numbers(value, expected):
    assert ledger.amount_of(value, "EUR") == eur(expected)
    assert ledger.amount_of(Money(3, "EUR"), "EUR") == eur(3)


@pytest.mark.parametrize("text", ["1,50", "1e3"])
def test_services_refuse_peoples_text_and_change_nothing(org, owner, admin, employee, text):
    bought(org, owner, 100)

    with pytest.raises(ApplicationError):
        credit_allocate(
            organization=org, actor=admin, members=[employee], amount=text, idempotency_key="a"
        )
    with tenant_scope(org), pytest.raises(ApplicationError) as refused:
        credit_settings_update(
            organization=org,
            actor=owner,
            billing_name="",
            billing_address="",
            vat_number="",
            purchasers=[],
            low_balance_warning=text,
        )
    assert refused.value.field == "low_balance_warning"
    with pytest.raises(ApplicationError) as refused:
        auto_recharge_update(
            organization=org,
            actor=owner,
            enabled=False,
            threshold=text,
            amount="50",
            monthly_max="100",
        )
    assert refused.value.field == "threshold"
    with pytest.raises(ApplicationError):
        credit_rule_create(
            organization=org,
            actor=owner,
            kind="monthly_add",
            target=Target.EVERYONE,
            amount=text,
        )

    assert Transfer.objects.for_org(org).count() == 1
    assert balance(company(org)) == eur(100)


# --- An idempotency key stands for one movement ------------------------------------------------


@pytest.fixture
def first(org, owner, employee):
    bought(org, owner, 100)
    return ledger.transfer_post(
        organization=org,
        actor=None,
        source=company(org),
        destination=ledger.member_wallet(org, employee),
        amount=10,
        kind=Transfer.Kind.ALLOCATION,
        idempotency_key="k",
    )


def test_the_same_key_for_the_same_movement_returns_the_first_transfer(org, employee, first):
    again = ledger.transfer_post(
        organization=org,
        actor=None,
        source=company(org),
        destination=ledger.member_wallet(org, employee),
        amount="10.0000",
        kind=Transfer.Kind.ALLOCATION,
        idempotency_key="k",
        memo="A memo does not make it another movement.",
    )

    assert again.pk == first.pk
    assert balance(company(org)) == eur(90)


@pytest.mark.parametrize("change", ["amount", "destination", "source", "kind"])
def test_the_same_key_for_another_movement_is_refused(org, employee, admin, first, change):
    movement = {
        "source": company(org),
        "destination": ledger.member_wallet(org, employee),
        "amount": 10,
        "kind": Transfer.Kind.ALLOCATION,
    }
    if change == "amount":
        movement["amount"] = 11
    elif change == "destination":
        movement["destination"] = ledger.member_wallet(org, admin)
    elif change == "source":
        movement["source"] = ledger.system_account(org, Account.Kind.PAYMENTS)
    else:
        movement["kind"] = Transfer.Kind.ADJUSTMENT

    with pytest.raises(ledger.IdempotencyKeyReused):
        ledger.transfer_post(organization=org, actor=None, idempotency_key="k", **movement)

    assert Transfer.objects.for_org(org).count() == 2
    assert balance(company(org)) == eur(90)


def test_an_allocation_form_sent_again_with_another_amount_is_refused(org, owner, admin, employee):
    bought(org, owner, 100)
    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=10, idempotency_key="form"
    )

    with pytest.raises(ledger.IdempotencyKeyReused):
        credit_allocate(
            organization=org, actor=admin, members=[employee], amount=20, idempotency_key="form"
        )

    assert balance(ledger.member_wallet(org, employee)) == eur(10)


# --- Refunds and staff corrections reverse what they correct -----------------------------------


def test_a_refund_reverses_the_purchase_transfer(org, owner, admin, employee):
    purchase = bought(org, owner, 100)
    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=70, idempotency_key="a"
    )

    purchase_refund(purchase=purchase, amount=Money(50, "EUR"), refund_key="re_1")

    paid = Transfer.objects.for_org(org).get(idempotency_key=f"purchase:{purchase.pk}")
    refunds = Transfer.objects.for_org(org).filter(kind=Transfer.Kind.REFUND)
    assert refunds.count() == 2  # 30 from the company balance, 20 owed
    assert {refund.reverses_id for refund in refunds} == {paid.pk}


def test_staff_reverse_part_then_the_rest_of_a_transfer(org, employee, first):
    wallet = ledger.member_wallet(org, employee)

    part = transfer_reverse(
        transfer=first, amount="4", memo="Gave 4 too many", staff_label="Staff (ana)",
        idempotency_key="c1",
    )  # fmt: skip
    same = transfer_reverse(
        transfer=first, amount="4", memo="Gave 4 too many", staff_label="Staff (ana)",
        idempotency_key="c1",
    )  # fmt: skip
    rest = transfer_reverse(
        transfer=first, memo="Wrong member", staff_label="Staff (ana)", idempotency_key="c2"
    )

    assert same.pk == part.pk
    assert (part.amount, rest.amount) == (eur(4), eur(6))
    assert {part.reverses_id, rest.reverses_id} == {first.pk}
    assert (part.source_id, part.destination_id) == (wallet.pk, company(org).pk)
    assert part.kind == Transfer.Kind.ADJUSTMENT
    assert part.memo == "Gave 4 too many"
    assert balance(wallet) == eur(0)
    assert balance(company(org)) == eur(100)
    events = AuditEvent.objects.for_org(org).filter(verb="transfer.corrected")
    assert events.count() == 2
    assert events.first().actor_label == "Staff (ana)"
    with pytest.raises(ApplicationError, match="already reversed in full"):
        transfer_reverse(transfer=first, memo="Again", staff_label="S", idempotency_key="c3")


def test_a_correction_never_takes_a_wallet_below_zero(org, employee, first):
    ledger.transfer_post(
        organization=org,
        actor=None,
        source=ledger.member_wallet(org, employee),
        destination=ledger.system_account(org, Account.Kind.USAGE),
        amount=8,
        kind=Transfer.Kind.USAGE,
        idempotency_key="spent",
    )

    with pytest.raises(ApplicationError, match="cannot give back"):
        transfer_reverse(transfer=first, memo="Too late", staff_label="S", idempotency_key="c")
    with pytest.raises(ApplicationError, match="At most"):
        transfer_reverse(
            transfer=first, amount=11, memo="Too much", staff_label="S", idempotency_key="d"
        )
    with pytest.raises(ApplicationError, match="Say why"):
        transfer_reverse(transfer=first, amount=1, memo="  ", staff_label="S", idempotency_key="e")

    assert balance(ledger.member_wallet(org, employee)) == eur(2)


def test_staff_correct_a_transfer_from_the_admin(org, employee, first, platform_staff):
    staff = platform_staff
    chosen = {"action": "correct", "_selected_action": [first.pk], "index": 0}

    page = staff.post(TRANSFERS, chosen)
    assert page.status_code == 200
    assert "Correct a transfer" in page.content.decode()
    key = str(uuid.uuid4())
    confirm = {**chosen, "apply": "1", "amount": "2.50", "memo": "Typo in the amount", "key": key}
    for _ in range(2):
        response = staff.post(TRANSFERS, confirm)
        assert response.status_code == 302

    correction = Transfer.objects.for_org(org).get(reverses=first)
    assert correction.amount == eur("2.5")
    assert correction.memo == "Typo in the amount"
    assert balance(ledger.member_wallet(org, employee)) == eur("7.5")
    refused = staff.post(TRANSFERS, {**confirm, "key": str(uuid.uuid4()), "amount": "8"})
    assert "At most €7.50" in refused.content.decode()


def test_staff_without_the_right_to_add_transfers_cannot_correct(org, first):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_transfer"))
    client = admin_client(viewer)
    assert client.get(TRANSFERS).status_code == 200

    client.post(TRANSFERS, {"action": "correct", "_selected_action": [first.pk], "index": 0})

    assert not Transfer.objects.for_org(org).filter(reverses=first).exists()
