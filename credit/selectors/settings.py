"""Reads of an organization's credit settings and of who may buy credit. Never writes: the
settings row is made with the organization (credit.services.settings.credit_settings_create,
run by the "organization created" hook of organizations.extensions)."""

from django.db.models import QuerySet
from djmoney.money import Money

from credit.models import CreditSettings
from organizations.models import Member, Organization


def credit_settings_defaults(organization: Organization) -> CreditSettings:
    """The settings of an organization that changed nothing yet, unsaved."""
    zero = Money(0, organization.currency)
    return CreditSettings(
        organization=organization,
        auto_recharge_threshold=zero,
        auto_recharge_amount=zero,
        auto_recharge_monthly_max=zero,
        low_balance_warning=zero,
    )


def credit_settings(organization: Organization) -> CreditSettings:
    """The organization's credit settings. An organization made without them (by a path that
    skipped the hook) reads the defaults, unsaved: their first change saves them. Read its
    purchasers with `credit_purchasers`, which works in both cases."""
    row = CreditSettings.objects.for_org(organization).first()
    return row if row is not None else credit_settings_defaults(organization)


def credit_purchasers(organization: Organization) -> QuerySet[Member]:
    """The finance members an owner allowed to buy credit (whatever their status now)."""
    allowed = CreditSettings.objects.for_org(organization).values("purchasers")
    return Member.objects.for_org(organization).filter(pk__in=allowed)
