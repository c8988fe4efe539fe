"""`manage.py demo_data`: the demo company, its people and its credit, loaded once."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, execute_from_command_line
from django.utils import timezone
from djmoney.money import Money

from credit.models import Account, CreditRule, Purchase, Transfer
from credit.selectors.ledger import ledger_problems
from credit.selectors.rollups import rollup_problems
from organizations.models import Member, Organization
from subscriptions.models import Subscription
from usage.models import UsageRecord


def load() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


@pytest.fixture
def development(settings):
    settings.DEBUG = True


def test_the_demo_company_has_people_and_credit_once(db, development):
    assert "Demo organization created" in load()
    assert "already loaded" in load()

    [organization] = Organization.objects.all()
    members = Member.objects.for_org(organization)
    assert sorted(members.values_list("role", flat=True)) == ["finance", "member", "owner"]
    purchases = Purchase.objects.for_org(organization).order_by("pk")
    assert [(p.amount, p.status) for p in purchases] == [
        (Money(500, "EUR"), Purchase.Status.PAID),
        (Money(200, "EUR"), Purchase.Status.PENDING),
    ]
    balances = {
        (account.kind, account.member_id): account.balance
        for account in Account.objects.for_org(organization)
    }
    # 420 after the welcome credit, less the demo features' first periods.
    charged = sum(
        (
            t.amount
            for t in Transfer.objects.for_org(organization).filter(kind="subscription_charge")
        ),
        Money(0, "EUR"),
    )
    assert charged == Money("8.98", "EUR")
    # A month of calls and messages, what the members' balances did not cover paid by the
    # company (usage is always recorded).
    records = UsageRecord.objects.for_org(organization)
    assert records.count() > 50
    from_company = Money(sum(r.from_company for r in records), "EUR")
    assert balances[(Account.Kind.ORGANIZATION, None)] == Money(420, "EUR") - charged - from_company
    assert rollup_problems(organization) == []
    features = Subscription.objects.for_org(organization)
    assert sorted(features.values_list("plan__kind", "member__role")) == [
        ("calling", "member"),
        ("number", "finance"),
        ("voicemail", "finance"),
    ]
    number = features.get(plan__kind="number")
    assert (number.status, number.provider_id) == ("active", "demo")
    assert number.phone_number.startswith("+331")
    assert features.filter(period_end__lte=timezone.now() + datetime.timedelta(days=7)).exists()
    employees = members.exclude(role="owner")
    for member in employees:
        spent = sum(r.from_member for r in records.filter(member=member))
        assert balances[(Account.Kind.MEMBER, member.pk)] == Money(40 - spent, "EUR")
    assert CreditRule.objects.for_org(organization).get().kind == CreditRule.Kind.MONTHLY_TOP_UP
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_without_debug_the_command_refuses_and_creates_nothing(settings, capsys):
    # Run as manage.py runs it (which closes the connection when it ends): outside a transaction.
    settings.DEBUG = False
    with pytest.raises(SystemExit) as exit:
        execute_from_command_line(["manage.py", "demo_data"])
    assert exit.value.code != 0
    assert "runs only with DEBUG=true" in capsys.readouterr().err
    assert not get_user_model().objects.exists()
    assert not Organization.objects.exists()
