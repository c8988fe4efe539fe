"""The demo company's credit (registered with organizations.extensions): a bank transfer
received and one still awaited, welcome credit for the employees, and a monthly top-up."""

from credit.models import CreditRule, Purchase
from credit.services.allocation import credit_allocate
from credit.services.purchases import purchase_create, purchase_credit
from credit.services.rules.management import Start, Target, credit_rule_create
from organizations.models import Member, Organization
from organizations.roles import Role


def demo_credit_load(organization: Organization, people: dict[str, Member]) -> None:
    owner = people[Role.OWNER]
    received = purchase_create(
        organization=organization, actor=owner, method=Purchase.Method.BANK_TRANSFER, amount=500
    )
    purchase_credit(purchase=received)
    purchase_create(
        organization=organization, actor=owner, method=Purchase.Method.BANK_TRANSFER, amount=200
    )
    employees = [member for role, member in people.items() if role != Role.OWNER]
    credit_allocate(
        organization=organization,
        actor=owner,
        members=employees,
        amount=40,
        idempotency_key="demo:welcome",
        memo="Welcome credit",
    )
    credit_rule_create(
        organization=organization,
        actor=owner,
        kind=CreditRule.Kind.MONTHLY_TOP_UP,
        target=Target.EVERYONE,
        amount=40,
        start=Start.NEXT_MONTH,
    )
