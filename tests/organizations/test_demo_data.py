"""`manage.py demo_data`: the demo company, its people and its credit, loaded once."""

from io import StringIO

from django.core.management import call_command
from djmoney.money import Money

from credit.models import Account, CreditRule, Purchase
from credit.selectors.ledger import ledger_problems
from organizations.models import Member, Organization


def load() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def test_the_demo_company_has_people_and_credit_once(db):
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
    assert balances[(Account.Kind.ORGANIZATION, None)] == Money(420, "EUR")
    employees = members.exclude(role="owner")
    assert all(balances[(Account.Kind.MEMBER, m.pk)] == Money(40, "EUR") for m in employees)
    assert CreditRule.objects.for_org(organization).get().kind == CreditRule.Kind.MONTHLY_TOP_UP
    assert ledger_problems() == []
