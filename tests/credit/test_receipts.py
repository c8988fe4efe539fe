"""Receipts: the page, the PDF, and the email to the owners."""

import pytest
from django.core import mail
from django.urls import reverse
from djmoney.money import Money

from credit.selectors.settings import credit_settings
from credit.services.purchases import (
    purchase_create,
    purchase_credit,
    purchase_refund,
)
from credit.services.receipts import pdf_text, receipt_attachment, receipt_pdf
from organizations.services import organization_update
from outbox.attachments import attachment_build
from outbox.models import OutboundMessage
from tests.factories import MemberFactory, UserFactory


def in_yen(owner):
    """The owner's organization switched to yen before its first purchase, as the settings
    page does it."""
    org = owner.organization
    organization_update(
        organization=org,
        actor=owner,
        name=org.name,
        country=org.country.code,
        time_zone=org.time_zone,
        currency="JPY",
    )
    org.refresh_from_db()
    return org


def paid_purchase(org, owner, amount=100, method="bank_transfer"):
    purchase = purchase_create(organization=org, actor=owner, method=method, amount=amount)
    return purchase_credit(purchase=purchase)


def url(name, purchase):
    return reverse(
        f"credit:{name}",
        kwargs={"org_slug": purchase.organization.slug, "purchase_id": purchase.pk},
    )


@pytest.fixture
def billing(org):
    row = credit_settings(org)
    row.billing_name = "Acme Société Générale SARL"
    row.billing_address = "12 rue de la Paix\n75002 Paris\nFrance"
    row.vat_number = "FR12345678901"
    row.save()
    return row


def test_the_receipt_page_shows_the_billing_details(org, owner, finance, login, billing):
    purchase = paid_purchase(org, owner)

    page = login(finance).get(url("purchase-detail", purchase)).content.decode()

    assert "Receipt" in page
    assert purchase.number in page
    assert "Acme Société Générale SARL" in page
    assert "75002 Paris" in page
    assert "VAT number: FR12345678901" in page
    assert "€100.00" in page
    assert "Bank transfer" in page
    assert url("receipt-pdf", purchase) in page


def test_the_receipt_downloads_as_a_pdf(org, owner, finance, login, billing):
    purchase = paid_purchase(org, owner)

    response = login(finance).get(url("receipt-pdf", purchase))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == f'attachment; filename="receipt-{purchase.number}.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 1000


def test_text_outside_the_pdf_fonts_does_not_break_the_pdf(org, owner, billing):
    billing.billing_name = "Zürich — 東京 ✓ Ωmega"
    billing.billing_address = "Straße 1\u202f2\n\u200b"
    billing.save()
    purchase = paid_purchase(org, owner)

    assert receipt_pdf(purchase=purchase).startswith(b"%PDF")
    assert pdf_text("1\u202f234,50\xa0€ — ok ✓") == "1 234,50 € — ok ?"


def test_receipts_in_yen(owner, login):
    org = in_yen(owner)
    purchase = paid_purchase(org, owner, amount=10000)

    page = login(owner).get(url("purchase-detail", purchase)).content.decode()

    assert "¥10,000" in page
    assert login(owner).get(url("receipt-pdf", purchase)).content.startswith(b"%PDF")


def test_a_receipt_after_a_partial_refund(org, owner, login):
    purchase = paid_purchase(org, owner, amount=100)
    purchase_refund(purchase=purchase, amount=25, refund_key="re_1")

    page = login(owner).get(url("purchase-detail", purchase)).content.decode()

    assert "-€25.00" in page
    assert "€75.00" in page
    assert login(owner).get(url("receipt-pdf", purchase)).content.startswith(b"%PDF")


def test_a_refund_outside_eur(owner):
    org = in_yen(owner)
    purchase = paid_purchase(org, owner, amount=10000)

    purchase = purchase_refund(purchase=purchase, amount=2500, refund_key="re_1")

    assert purchase.refunded == Money(2500, "JPY")


def test_no_receipt_before_payment(org, owner, login):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=50)
    client = login(owner)

    response = client.get(url("receipt-pdf", purchase))

    assert response.status_code == 302
    assert response["Location"] == url("purchase-detail", purchase)
    page = client.get(response["Location"]).content.decode()
    assert "There is no receipt until the purchase is paid." in page
    assert "Download PDF" not in page


def test_the_owners_receive_the_receipt_by_email(org, owner, django_capture_on_commit_callbacks):
    french = MemberFactory(organization=org, role="owner", user=UserFactory(language="fr"))
    MemberFactory(organization=org, role="finance")

    with django_capture_on_commit_callbacks(execute=True):
        purchase = paid_purchase(org, owner, method="card")
    with django_capture_on_commit_callbacks(execute=True):
        purchase_credit(purchase=purchase)

    emails = {m.to: m for m in OutboundMessage.objects.filter(key__startswith="credit:receipt:")}
    assert set(emails) == {owner.user.email, french.user.email}
    english = emails[owner.user.email]
    assert english.language == "en"
    assert emails[french.user.email].language == "fr"
    assert english.subject == f"[SkypeMgr] Receipt {purchase.number} for {org.name}"
    assert "€100.00 paid by Card is now in the company balance" in english.body
    assert url("purchase-detail", purchase) in english.body
    assert url("receipt-pdf", purchase) in english.html
    assert english.html.lstrip().startswith("<!DOCTYPE html>")


def test_the_receipt_email_carries_the_pdf_in_the_owners_language(
    org, owner, django_capture_on_commit_callbacks
):
    french = MemberFactory(organization=org, role="owner", user=UserFactory(language="fr"))
    with django_capture_on_commit_callbacks(execute=True):
        purchase = paid_purchase(org, owner, method="card")
    with django_capture_on_commit_callbacks(execute=True):
        purchase_credit(purchase=purchase)

    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {owner.user.email, french.user.email}
    documents = {}
    for address, message in sent.items():
        [(filename, content, mimetype)] = message.attachments
        assert filename == f"receipt-{purchase.number}.pdf"
        assert mimetype == "application/pdf"
        assert content.startswith(b"%PDF-")
        documents[address] = content
    # Each in the language of its reader, as its title says.
    assert f"/Title (Receipt {purchase.number})".encode() in documents[owner.user.email]
    french_title = f"Reçu {purchase.number}".encode("utf-16-be").hex()
    assert f"/Title <feff{french_title}>".encode() in documents[french.user.email]
    stored = OutboundMessage.objects.get(to=owner.user.email, key__startswith="credit:receipt:")
    assert stored.attachment == f"credit.receipt:{purchase.pk}"


def test_a_receipt_attachment_of_a_purchase_no_longer_paid_is_left_out(org, owner):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=10)

    assert receipt_attachment(str(purchase.pk)) is None
    assert receipt_attachment("987654321") is None
    assert attachment_build("credit.receipt:") is None
    assert attachment_build("nobody.knows:1") is None


def test_a_bank_transfer_receipt_says_it_arrived(org, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        purchase = paid_purchase(org, owner, amount=250)

    message = OutboundMessage.objects.get(key__startswith="credit:receipt:")
    assert message.subject.startswith("[SkypeMgr] Bank transfer received")
    assert f"We received your bank transfer of €250.00 (reference {purchase.reference})" in (
        message.body
    )
    assert Money(250, "EUR") == purchase.amount
