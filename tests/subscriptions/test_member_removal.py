"""Removing a member asks what happens to their live features: cancelled (at the period end or
now with a refund) or moved to another member, a number keeping its number."""

import pytest
from djmoney.money import Money

from members.services.membership import member_leave, member_remove
from organizations.models import Member
from organizations.scoping import tenant_scope
from subscriptions.models import MemberFeatures, Plan, Subscription
from subscriptions.services.assign import subscriptions_assign
from tests.credit.rules_support import balance_of, bought
from tests.factories import MemberFactory, SubscriptionFactory
from tests.tenancy import snapshot

pytestmark = pytest.mark.django_db


def status_url(member) -> str:
    return f"/o/{member.organization.slug}/members/{member.pk}/status/"


@pytest.fixture
def leaver(org, owner):
    bought(org, owner, 100)
    member = MemberFactory(organization=org)
    with tenant_scope(org):
        subscriptions_assign(
            organization=org,
            actor=owner,
            members=[member],
            plan=Plan.objects.get(code="france-landlines-unlimited"),
            period_months=1,
            form_key="leaver",
        )
    return member


def test_the_removal_page_asks_about_live_features(org, owner, leaver, login):
    page = login(owner).get(status_url(leaver), {"action": "remove"}).content.decode()
    assert "What happens to their features?" in page
    assert "France landlines unlimited" in page
    assert 'value="cancel_now"' in page
    quiet = MemberFactory(organization=org)
    page = login(owner).get(status_url(quiet), {"action": "remove"}).content.decode()
    assert "What happens to their features?" not in page


def test_moving_keeps_the_number_and_clears_the_caller_id(org, owner, leaver, login):
    heir = MemberFactory(organization=org)
    number = SubscriptionFactory(
        organization=org,
        member=leaver,
        plan=Plan.objects.get(code="number-fr"),
        phone_number="+33159000999",
        provider_id="PN1",
    )
    with tenant_scope(org):
        MemberFeatures.objects.create(organization=org, member=leaver, caller_id=number)
    response = login(owner).post(
        status_url(leaver), {"action": "remove", "features_then": "move", "features_to": heir.pk}
    )
    assert response.status_code == 302
    leaver.refresh_from_db()
    assert leaver.status == Member.Status.REMOVED
    with tenant_scope(org):
        moved = Subscription.objects.filter(member=heir)
        assert {s.plan.code for s in moved} == {"france-landlines-unlimited", "number-fr"}
        assert moved.get(plan__code="number-fr").phone_number == "+33159000999"
        assert MemberFeatures.objects.get(member=leaver).caller_id is None
        assert not Subscription.objects.filter(member=leaver).exists()


def test_moving_needs_someone_and_changes_nothing_without(org, owner, leaver, login):
    before = snapshot(org)
    response = login(owner).post(status_url(leaver), {"action": "remove", "features_then": "move"})
    assert response.status_code == 400
    assert "Choose who receives their features." in response.content.decode()
    outsider = MemberFactory()
    response = login(owner).post(
        status_url(leaver),
        {"action": "remove", "features_then": "move", "features_to": outsider.pk},
    )
    assert response.status_code == 400
    assert snapshot(org) == before


def test_cancel_now_on_removal_refunds(org, owner, leaver, login):
    assert balance_of(org) == Money("97.01", "EUR")
    response = login(owner).post(
        status_url(leaver), {"action": "remove", "features_then": "cancel_now"}
    )
    assert response.status_code == 302
    with tenant_scope(org):
        subscription = Subscription.objects.get(member=leaver)
    assert subscription.status == "cancelled"
    assert balance_of(org) > Money("99", "EUR")


def test_an_admin_cannot_choose_the_refund(org, admin, leaver, login):
    response = login(admin).post(
        status_url(leaver), {"action": "remove", "features_then": "cancel_now"}
    )
    assert response.status_code == 400
    with tenant_scope(org):
        assert Subscription.objects.get(member=leaver).status == "active"


def test_without_an_answer_features_end_at_the_period_end(org, owner, leaver):
    with tenant_scope(org):
        member_remove(organization=org, actor=owner, member=leaver)
        subscription = Subscription.objects.get(member=leaver)
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)


def test_a_member_leaving_cancels_at_the_period_end(org, leaver):
    with tenant_scope(org):
        member_leave(organization=org, member=leaver)
        subscription = Subscription.objects.get(member=leaver)
    assert subscription.cancel_at_period_end is True
