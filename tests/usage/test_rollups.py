"""Daily rollups: kept by usage and by feature charges and refunds in the same transaction,
and `check_rollups` finds any difference."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from credit.models import DailyRollup
from credit.selectors.rollups import rollup_problems
from organizations.scoping import tenant_scope
from subscriptions.models import Plan
from subscriptions.services.assign import subscriptions_assign
from subscriptions.services.manage import subscription_cancel
from tests.usage.support import call, fund, rate, sms
from usage.services.ingest import usage_records_ingest


@pytest.fixture
def busy_org(org, owner, employee):
    from usage.models import Rate

    Rate.objects.all().delete()
    rate("33", "0.02", country="FR")
    rate("44", "0.03", country="GB")
    fund(org, 100)
    with tenant_scope(org):
        assignment = subscriptions_assign(
            organization=org,
            actor=owner,
            members=[employee],
            plan=Plan.objects.get(code="voicemail"),
            period_months=1,
            form_key="rollups-1",
        )
    usage_records_ingest(
        organization=org,
        records=[call(employee, seconds=600), call(employee, "+442071234567"), sms(employee)],
    )
    return org, employee, assignment


def test_usage_and_feature_charges_are_rolled_up(busy_org):
    org, employee, assignment = busy_org
    rows = {r.category: r for r in DailyRollup.objects.for_org(org).filter(member=employee)}
    assert set(rows) == {"voicemail", "call:FR", "call:GB", "sms"}
    assert rows["voicemail"].amount == assignment.total.amount
    assert (rows["call:FR"].amount, rows["call:FR"].quantity) == (Decimal("0.2"), 600)
    assert rollup_problems() == []
    out = StringIO()
    call_command("check_rollups", stdout=out)
    assert "exact" in out.getvalue()


def test_a_refund_takes_its_charge_out_of_the_rollups(busy_org, owner):
    org, employee, assignment = busy_org
    [subscription] = assignment.subscriptions
    with tenant_scope(org):
        subscription_cancel(organization=org, actor=owner, subscription=subscription, now=True)
    row = DailyRollup.objects.for_org(org).get(member=employee, category="voicemail")
    # Cancelled at once: nearly all of the period is given back.
    assert Decimal(0) <= row.amount < assignment.total.amount / 10
    assert rollup_problems() == []


def test_check_rollups_reports_a_difference(busy_org):
    org, _employee, assignment = busy_org
    DailyRollup.objects.for_org(org).filter(category="call:FR").update(amount=Decimal("9"))
    DailyRollup.objects.for_org(org).filter(category="voicemail").update(amount=Decimal("0"))
    err = StringIO()
    # Each changed day differs from what it sums up, from its month's row and from the
    # organization's day total.
    with pytest.raises(CommandError, match="The rollups have 6 problem"):
        call_command("check_rollups", organization=org.slug, stderr=err)
    assert "call:FR" in err.getvalue()
    assert "features on" in err.getvalue()
    assert err.getvalue().count("monthly rollup") == 2
    assert err.getvalue().count("day total") == 2
    # Put right for the suite's own check after the test.
    DailyRollup.objects.for_org(org).filter(category="call:FR").update(amount=Decimal("0.2"))
    DailyRollup.objects.for_org(org).filter(category="voicemail").update(
        amount=assignment.total.amount
    )
