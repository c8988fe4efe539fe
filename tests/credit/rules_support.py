"""Helpers for the credit tests: credit bought through the purchase services, money moved through
the ledger the way purchases, allocations and usage move it, and what the tests read back."""

import itertools
from datetime import UTC, datetime

from djmoney.money import Money

from credit.models import Account, CreditRule, Purchase
from credit.services import ledger
from credit.services.purchases import purchase_create, purchase_credit
from outbox.models import OutboundMessage

_keys = itertools.count(1)


def money(organization, value) -> Money:
    return Money(value, organization.currency)


def company(organization) -> Account:
    return ledger.system_account(organization, Account.Kind.ORGANIZATION)


def balance_of(organization, member=None) -> Money:
    account = (
        company(organization) if member is None else ledger.member_wallet(organization, member)
    )
    account.refresh_from_db()
    return account.balance


def bought(organization, actor, amount=100) -> Purchase:
    """A bank transfer bought by `actor` and received: credited to the company balance."""
    purchase = purchase_create(
        organization=organization, actor=actor, method="bank_transfer", amount=amount
    )
    return purchase_credit(purchase=purchase)


def fund(organization, amount) -> None:
    """Credit bought: the payments account pays the company balance."""
    ledger.transfer_post(
        organization=organization,
        actor=None,
        source=ledger.system_account(organization, Account.Kind.PAYMENTS),
        destination=company(organization),
        amount=amount,
        kind="purchase",
        idempotency_key=f"test:fund:{next(_keys)}",
    )


def give(organization, member, amount) -> None:
    """An allocation from the company balance to the member."""
    ledger.transfer_post(
        organization=organization,
        actor=None,
        source=company(organization),
        destination=ledger.member_wallet(organization, member),
        amount=amount,
        kind="allocation",
        idempotency_key=f"test:give:{next(_keys)}",
    )


def spend(organization, member, amount, kind="usage") -> None:
    """Usage (or a feature's charge) paid from the member's wallet."""
    target = Account.Kind.USAGE if kind == "usage" else Account.Kind.SUBSCRIPTIONS
    ledger.transfer_post(
        organization=organization,
        actor=None,
        source=ledger.member_wallet(organization, member),
        destination=ledger.system_account(organization, target),
        amount=amount,
        kind=kind,
        idempotency_key=f"test:spend:{next(_keys)}",
    )


def rule(organization, kind="auto_recharge", *, amount, threshold=None, monthly_max=None, **kw):
    return CreditRule.objects.create(
        organization=organization,
        kind=kind,
        amount=money(organization, amount),
        threshold=money(organization, threshold) if threshold is not None else None,
        monthly_max=money(organization, monthly_max) if monthly_max is not None else None,
        **kw,
    )


def emails(key_part: str) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(key__contains=key_part).order_by("pk"))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
