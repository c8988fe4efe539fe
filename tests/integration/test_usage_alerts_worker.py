"""Usage alerts through a real worker: the ingestion sends the check once its transaction has
committed, the worker files the alert and its emails leave through the outbox, once."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction

from credit.services.caps import member_spending_cap_set
from outbox.models import OutboundMessage
from tests.integration.waiting import wait_for
from tests.usage.support import call, fund, give
from usage.models import UsageAlert
from usage.services.ingest import usage_records_ingest


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_cap_alert_is_checked_by_the_worker_after_the_usage_commits(
    celery_worker_thread, celery_tasks, org, owner, admin, employee
):
    fund(org, 100)
    give(org, employee, 50)
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap="10")

    with transaction.atomic():
        usage_records_ingest(organization=org, records=[call(employee, cost=Decimal("8.5"))])
        assert "usage.check_alerts" not in celery_tasks.sent_names, "not before the commit"

    assert wait_for(lambda: UsageAlert.objects.for_org(org).filter(kind="cap_80").exists())
    assert wait_for(lambda: len(mail.outbox) == 3)
    assert celery_tasks.wait_idle()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [employee.email, owner.email, admin.email]
    )
    assert "usage.check_alerts" in celery_tasks.sent_names

    # The same usage sent again is a duplicate: no check finds anything new.
    usage_records_ingest(
        organization=org, records=[call(employee, cost=Decimal("1"), external_id="again")]
    )
    assert celery_tasks.wait_idle()
    assert UsageAlert.objects.for_org(org).count() == 1
    assert OutboundMessage.objects.filter(key__startswith="usage:alert:").count() == 3
    assert len(mail.outbox) == 3
