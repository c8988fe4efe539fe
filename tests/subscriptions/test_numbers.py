"""Online numbers at Twilio (a local fake over real HTTP): bought once whatever retries,
failed ones refunded once, stuck ones sent again, held ones released after the hold."""

import datetime

import pytest
import time_machine
from django.core import mail
from djmoney.money import Money

from credit.models import Transfer
from organizations.models import AuditEvent
from organizations.scoping import tenant_scope
from subscriptions.models import FeatureSettings, Plan, Renewal, Subscription
from subscriptions.services import numbers as services
from subscriptions.services.assign import subscriptions_assign
from subscriptions.tasks.numbers import (
    number_provision,
    provision_stuck_numbers,
    release_held_numbers,
)
from tests.credit.rules_support import balance_of, bought
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

_commits = None


@pytest.fixture(autouse=True)
def _after_commit(django_capture_on_commit_callbacks):
    """Run what the services send after commit (the purchase task) when they commit."""
    global _commits
    _commits = django_capture_on_commit_callbacks
    yield
    _commits = None


def number_plan(country="fr") -> Plan:
    return Plan.objects.get(code=f"number-{country}")


def buy(org, actor, members, key="numbers-1", tasks=True, **extra) -> list[Subscription]:
    """Assign a French number; with `tasks`, the purchase task runs at commit (without, it
    is lost, as with the broker down)."""
    with tenant_scope(org), _commits(execute=tasks):
        done = subscriptions_assign(
            organization=org,
            actor=actor,
            members=members,
            plan=number_plan(),
            period_months=1,
            form_key=key,
            number_country="FR",
            **extra,
        )
    return done.subscriptions


def fresh(org, subscription) -> Subscription:
    with tenant_scope(org):
        return Subscription.objects.get(pk=subscription.pk)


def test_a_number_asked_for_is_bought_with_our_webhooks(org, owner, twilio_numbers):
    bought(org, owner, 50)
    member = MemberFactory(organization=org)
    (subscription,) = buy(org, owner, [member], number_requested="+33159000002")
    subscription = fresh(org, subscription)
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.phone_number == "+33159000002"
    assert subscription.provider_id.startswith("PN")
    (purchase,) = twilio_numbers.purchases
    assert purchase["VoiceUrl"] == "https://portal.example.com/twilio/voice/"
    assert purchase["StatusCallback"] == "https://portal.example.com/twilio/call-status/"
    assert purchase["FriendlyName"] == services.number_marker(subscription)
    with tenant_scope(org):
        assert AuditEvent.objects.filter(verb="number.provisioned").count() == 1


def test_any_number_is_the_first_found_in_the_area(org, owner, twilio_numbers):
    bought(org, owner, 50)
    people = MemberFactory.create_batch(2, organization=org)
    subscriptions = buy(org, owner, people, number_area="4")
    numbers = [fresh(org, subscription) for subscription in subscriptions]
    assert [n.status for n in numbers] == ["active", "failed"]
    assert numbers[0].phone_number == "+33491000003"
    assert twilio_numbers.searches[0]["AreaCode"] == "4"
    # The area had one number: the second member's is refunded, the first's stays charged.
    price = number_plan().prices.get(currency="EUR", period_months=1).amount
    assert balance_of(org) == Money(50 - price, "EUR")


def test_a_retried_task_buys_one_number(org, owner, twilio_numbers):
    """Twilio bought the number but its answer was lost: the task's retry (and any task
    after it) finds the number by its marker instead of buying another."""
    bought(org, owner, 50)
    twilio_numbers.fail_after_buying = 1
    member = MemberFactory(organization=org)
    buy(org, owner, [member])
    with tenant_scope(org):
        subscription = Subscription.objects.get(member=member)
    assert len(twilio_numbers.purchases) == 1
    number_provision.apply(args=(org.pk, subscription.pk))
    number_provision.apply(args=(org.pk, subscription.pk))
    subscription = fresh(org, subscription)
    assert subscription.status == Subscription.Status.ACTIVE
    assert len(twilio_numbers.purchases) == 1
    assert subscription.provider_id in twilio_numbers.owned


def test_a_refused_purchase_fails_and_refunds_once(org, owner, admin, twilio_numbers):
    bought(org, owner, 50)
    twilio_numbers.refuse_purchase = (400, 21422, "Number not available")
    member = MemberFactory(organization=org)
    mail.outbox.clear()
    (subscription,) = buy(org, owner, [member], number_requested="+33159000001")
    subscription = fresh(org, subscription)
    assert subscription.status == Subscription.Status.FAILED
    assert "Number not available" in subscription.failure_reason
    assert balance_of(org) == Money("50", "EUR")
    # The task again, and the failure service again: nothing more.
    subscription.status = Subscription.Status.PROVISIONING
    with tenant_scope(org):
        Subscription.objects.filter(pk=subscription.pk).update(status="provisioning")
    number_provision.apply(args=(org.pk, subscription.pk))
    with tenant_scope(org):
        refunds = Transfer.objects.filter(kind=Transfer.Kind.SUBSCRIPTION_REFUND)
        assert refunds.count() == 1
        assert Renewal.objects.get(subscription=subscription).status == "refunded"
    assert balance_of(org) == Money("50", "EUR")
    told = [m for m in mail.outbox if "could not be bought" in m.subject]
    assert sorted(m.to[0] for m in told) == sorted([owner.email, admin.email])


def test_no_number_available_fails_with_the_reason(org, owner, twilio_numbers):
    bought(org, owner, 50)
    twilio_numbers.available["FR"] = []
    (subscription,) = buy(org, owner, [MemberFactory(organization=org)])
    subscription = fresh(org, subscription)
    assert subscription.status == Subscription.Status.FAILED
    assert "No number is available" in subscription.failure_reason
    assert twilio_numbers.purchases == []
    assert balance_of(org) == Money("50", "EUR")


def test_the_sweep_sends_stuck_numbers_again(org, owner, twilio_numbers):
    bought(org, owner, 50)
    member = MemberFactory(organization=org)
    buy(org, owner, [member], tasks=False)
    assert provision_stuck_numbers.apply().get() == 0
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=11)):
        assert provision_stuck_numbers.apply().get() == 1
    with tenant_scope(org):
        assert Subscription.objects.get(member=member).status == "active"
    assert len(twilio_numbers.purchases) == 1


def _suspend(org, subscription, when):
    with tenant_scope(org):
        Subscription.objects.filter(pk=subscription.pk).update(
            status=Subscription.Status.SUSPENDED, suspended_at=when
        )


def test_a_number_is_released_after_the_hold_only(org, owner, twilio_numbers):
    bought(org, owner, 50)
    (subscription,) = buy(org, owner, [MemberFactory(organization=org)])
    subscription = fresh(org, subscription)
    now = datetime.datetime.now(datetime.UTC)
    _suspend(org, subscription, now - datetime.timedelta(days=29))
    assert release_held_numbers.apply().get() == 0
    assert fresh(org, subscription).released_at is None
    _suspend(org, subscription, now - datetime.timedelta(days=31))
    assert release_held_numbers.apply().get() == 1
    released = fresh(org, subscription)
    assert released.status == Subscription.Status.EXPIRED
    assert released.released_at is not None
    assert twilio_numbers.released == [subscription.provider_id]
    assert release_held_numbers.apply().get() == 0
    with tenant_scope(org):
        assert AuditEvent.objects.filter(verb="number.released").count() == 1


def test_a_late_payment_keeps_the_number(org, owner, twilio_numbers):
    """The sweep chose the number, then the renewal engine reactivated it: the release
    re-checks under the row lock and leaves it."""
    bought(org, owner, 50)
    (subscription,) = buy(org, owner, [MemberFactory(organization=org)])
    _suspend(org, subscription, datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=40))
    assert services.numbers_release_due() == [(org.pk, subscription.pk)]
    with tenant_scope(org):
        Subscription.objects.filter(pk=subscription.pk).update(status="active", suspended_at=None)
        services.number_release(organization=org, subscription_id=subscription.pk)
    assert fresh(org, subscription).released_at is None
    assert twilio_numbers.released == []


def test_the_hold_is_the_organization_setting(org, owner, twilio_numbers):
    bought(org, owner, 50)
    (subscription,) = buy(org, owner, [MemberFactory(organization=org)])
    with tenant_scope(org):
        FeatureSettings.objects.filter(organization=org).update(number_hold_days=5)
    _suspend(org, subscription, datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=6))
    assert release_held_numbers.apply().get() == 1
