"""No error page after money moved (issue 8, item 3): with Redis and the broker unreachable,
writes that succeeded still answer as they should, and the beat sweeps do the follow-up once
Redis is back. Redis is really unreachable here: the cache and the broker are pointed at a
closed port (connections are refused), nothing is mocked."""

import datetime as dt
import socket

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from djmoney.money import Money

from credit.models import Account, Purchase, Transfer
from credit.selectors.settings import credit_settings
from credit.services.ledger import system_account
from credit.services.purchases import purchase_create
from credit.services.settings import credit_settings_update
from credit.tasks.rules import check_auto_recharges
from members.models import InvitationDelivery
from members.tasks import send_stuck_invitations
from organizations.scoping import tenant_scope
from outbox.models import OutboundMessage
from outbox.tasks import redispatch_stuck
from skypemgr import celery_app
from tests.credit.rules_support import bought
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _broker_at(url: str) -> None:
    celery_app.conf.broker_url = url
    # The app keeps its connection pools open; forget them, as a forked worker does.
    celery_app._after_fork()


class _RedisDown:
    """Inside the block, the cache (django-redis) and the Celery broker are at a port where
    nothing listens, and tasks go to the broker (they are not run inline)."""

    def __init__(self, settings):
        self.settings = settings

    def __enter__(self):
        url = f"redis://127.0.0.1:{_closed_port()}/0"
        self.caches = self.settings.CACHES
        self.broker = celery_app.conf.broker_url
        self.settings.CACHES = {
            **self.caches,
            "default": {**self.caches["default"], "LOCATION": url},
        }
        _broker_at(url)
        celery_app.conf.task_always_eager = False
        return self

    def __exit__(self, *exc_info):
        celery_app.conf.task_always_eager = True
        _broker_at(self.broker)
        self.settings.CACHES = self.caches


def later(minutes: int):
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=False)


def company(org) -> Money:
    return system_account(org, Account.Kind.ORGANIZATION).balance


def test_an_allocation_confirms_and_the_sweep_sends_the_warning(
    org, owner, employee, login, settings
):
    bought(org, owner, 100)
    with tenant_scope(org):
        credit_settings_update(
            organization=org,
            actor=owner,
            billing_name="",
            billing_address="",
            vat_number="",
            purchasers=[],
            low_balance_warning="80",
        )
    client = login(owner)
    preview = client.post(
        f"/o/{org.slug}/credit/allocate/",
        {
            "target": "selected",
            "members": [employee.pk],
            "amount": "30",
            "idempotency_key": "9f1c2b4e-0a7d-11f1-8000-000000000001",
            "step": "preview",
        },
    )
    fingerprint = preview.context["plan"].fingerprint

    with _RedisDown(settings):
        response = client.post(
            f"/o/{org.slug}/credit/allocate/",
            {
                "target": "selected",
                "members": [employee.pk],
                "amount": "30",
                "idempotency_key": "9f1c2b4e-0a7d-11f1-8000-000000000001",
                "expected": fingerprint,
                "step": "confirm",
            },
        )
        assert response.status_code == 302
        page = client.get(response["Location"])
        assert any("allocated" in str(message) for message in page.context["messages"])

    assert Transfer.objects.for_org(org).filter(kind=Transfer.Kind.ALLOCATION).count() == 1
    assert company(org) == Money(70, "EUR")
    assert not OutboundMessage.objects.filter(key__startswith="credit:low-balance:").exists()
    assert credit_settings(org).low_balance_warned_at is None

    check_auto_recharges.delay()

    assert credit_settings(org).low_balance_warned_at is not None
    warnings = OutboundMessage.objects.filter(key__startswith="credit:low-balance:")
    assert warnings.count() == 1
    assert warnings.get().status == OutboundMessage.Status.SENT


def test_a_payment_confirmed_with_redis_down_is_receipted_by_the_sweep(
    org, owner, settings, platform_staff
):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=50)
    client = platform_staff

    with _RedisDown(settings):
        response = client.post(
            "/admin/credit/purchase/",
            {"action": "confirm_bank_transfer", "_selected_action": [purchase.pk], "index": 0},
        )
        assert response.status_code == 302

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    receipt = OutboundMessage.objects.get(key__startswith=f"credit:receipt:{purchase.pk}:")
    assert receipt.status == OutboundMessage.Status.QUEUED
    assert mail.outbox == []

    with later(11):
        redispatch_stuck.delay()

    receipt.refresh_from_db()
    assert receipt.status == OutboundMessage.Status.SENT
    assert [email.to for email in mail.outbox] == [[owner.user.email]]


def test_invitations_sent_with_redis_down_go_out_with_the_sweep(org, owner, login, settings):
    client = login(owner)

    with _RedisDown(settings):
        response = client.post(
            f"/o/{org.slug}/members/invite/",
            {"channel": "auto", "addresses": "ana@example.com", "role": "member", "action": "send"},
        )
        assert response.status_code == 302

    delivery = InvitationDelivery.objects.for_org(org).get()
    assert delivery.written_at is None
    assert mail.outbox == []

    with later(11):
        assert send_stuck_invitations() == 1

    delivery.refresh_from_db()
    assert delivery.written_at is not None
    assert [email.to for email in mail.outbox] == [["ana@example.com"]]


def test_auto_recharge_saved_with_redis_down(org, owner, login, settings):
    row = credit_settings(org)
    row.stripe_customer_id, row.stripe_payment_method_id = "cus_1", "pm_1"
    row.save()
    MemberFactory(organization=org)

    with _RedisDown(settings):
        response = login(owner).post(
            f"/o/{org.slug}/credit/auto-recharge/",
            {"enabled": "on", "threshold": "20", "amount": "100", "monthly_max": "300"},
        )

    assert response.status_code == 302
    assert credit_settings(org).auto_recharge_enabled is True
