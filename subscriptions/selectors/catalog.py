"""What the catalog offers an organization: the plans priced in its currency."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from djmoney.money import Money

from organizations.models import Organization
from subscriptions.models import Plan, PlanPrice


@dataclass(frozen=True)
class Offer:
    """A plan with its prices in one currency, by period (months)."""

    plan: Plan
    prices: dict[int, Money]

    @property
    def periods(self) -> list[int]:
        return sorted(self.prices)


def catalog_for(*, organization: Organization, kind: str | None = None) -> list[Offer]:
    """The active plans with at least one price in the organization's currency, in catalog
    order (kind, position)."""
    currency = organization.currency
    plans = Plan.objects.filter(active=True).prefetch_related(
        Prefetch("prices", queryset=PlanPrice.objects.filter(currency=currency))
    )
    if kind:
        plans = plans.filter(kind=kind)
    offers = []
    for plan in plans:
        prices = {price.period_months: Money(price.amount, currency) for price in plan.prices.all()}
        if prices:
            offers.append(Offer(plan=plan, prices=prices))
    return offers


def price_for(*, plan: Plan, currency: str, period_months: int) -> Money | None:
    """What `plan` costs for `period_months` in `currency`; None when it is not sold so."""
    amount = (
        PlanPrice.objects.filter(plan=plan, currency=currency, period_months=period_months)
        .values_list("amount", flat=True)
        .first()
    )
    return Money(Decimal(amount), currency) if amount is not None else None
