"""The verification email leaves through the worker, and only after the signup commits."""

import pytest
from django.core import mail
from django.db import transaction

from outbox.models import OutboundMessage
from tests.factories import PASSWORD
from tests.integration.waiting import wait_for


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_verification_email_is_sent_by_the_worker_after_commit(
    celery_worker_thread, celery_tasks, client
):
    with transaction.atomic():
        response = client.post(
            "/accounts/signup/?via=email",
            {
                "via": "email",
                "email": "ana@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert response.status_code == 302
        # The message exists only in this transaction: nothing was sent to the worker yet.
        assert celery_tasks.sent_names == []
        assert mail.outbox == []
        assert OutboundMessage.objects.get().status == "queued"

    assert wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].to == ["ana@example.com"]
    assert wait_for(lambda: OutboundMessage.objects.get().status == "sent")
    assert celery_tasks.wait_idle()
    assert len(mail.outbox) == 1, "sent once"
