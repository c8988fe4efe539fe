"""The development outbox lists the file each email carried, by name, with a link to it."""

import pytest

from credit.services.purchases import purchase_create, purchase_credit
from outbox.models import OutboundMessage
from outbox.services import message_queue_email


@pytest.fixture
def dev_outbox(settings):
    settings.DEV_OUTBOX = True


@pytest.fixture
def receipt_email(org, owner, django_capture_on_commit_callbacks):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=80)
    with django_capture_on_commit_callbacks(execute=True):
        purchase_credit(purchase=purchase)
    return purchase, OutboundMessage.objects.get(key__startswith="credit:receipt:")


def test_the_outbox_names_the_attachment_and_links_to_it(dev_outbox, client, receipt_email):
    purchase, message = receipt_email
    assert message.attachment_name == f"receipt-{purchase.number}.pdf"
    page = client.get("/dev/outbox/").content.decode()
    link = f'href="/dev/outbox/{message.pk}/attachment/" download>receipt-{purchase.number}.pdf'
    assert link in page

    response = client.get(f"/dev/outbox/{message.pk}/attachment/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="receipt-{purchase.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")


def test_an_email_without_attachment_has_none(dev_outbox, client, db):
    message = message_queue_email(to="a@example.com", subject="Hello", body="Hi")
    assert "Attachment:" not in client.get("/dev/outbox/").content.decode()
    assert client.get(f"/dev/outbox/{message.pk}/attachment/").status_code == 404


def test_attachments_are_not_served_without_the_dev_outbox(settings, client, receipt_email):
    settings.DEV_OUTBOX = False
    _purchase, message = receipt_email
    assert client.get(f"/dev/outbox/{message.pk}/attachment/").status_code == 404
