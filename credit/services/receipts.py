"""Receipts of paid purchases: what they say, and the PDF.

Owns no rows: a receipt is drawn from the Purchase and the organization's billing details
(CreditSettings) each time it is asked for, in the language of the moment. The PDF uses the
PDF core fonts (no font file to ship), whose alphabet is Windows-1252: text is folded into it
(typographic spaces become plain ones, anything else unknown becomes "?").
"""

import unicodedata
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from djmoney.money import Money
from fpdf import FPDF

from credit.models import Purchase
from credit.selectors.settings import credit_settings
from organizations.scoping import all_tenants
from outbox.attachments import Attachment

ISSUER = "SkypeMgr"


@dataclass(frozen=True)
class Receipt:
    number: str
    date: str
    company: str
    address_lines: list[str]
    vat_number: str
    description: str
    method: str
    reference: str
    amount: Money
    refunded: Money
    status: str

    @property
    def net(self) -> Money:
        return self.amount - self.refunded


def receipt_available(purchase: Purchase) -> bool:
    return purchase.status in (Purchase.Status.PAID, Purchase.Status.REFUNDED)


def receipt_of(purchase: Purchase) -> Receipt:
    """The receipt of a paid (or refunded) purchase, in the current language."""
    organization = purchase.organization
    billing = credit_settings(organization)
    try:
        zone = zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    paid_at = (purchase.paid_at or purchase.created_at).astimezone(zone)
    return Receipt(
        number=purchase.number,
        date=date_format(paid_at.date(), "DATE_FORMAT"),
        company=billing.billing_name or organization.name,
        address_lines=[
            line.strip() for line in billing.billing_address.splitlines() if line.strip()
        ],
        vat_number=billing.vat_number,
        description=_("Prepaid communication credit"),
        method=str(purchase.get_method_display()),
        reference=purchase.reference,
        amount=purchase.amount,
        # In the purchase's currency even where the row's default left another one.
        refunded=Money(purchase.refunded.amount, purchase.amount.currency),
        status=str(purchase.get_status_display()),
    )


def pdf_text(text: str) -> str:
    """`text` in the core fonts' alphabet (Windows-1252)."""
    folded = unicodedata.normalize("NFKC", str(text)).replace("•", "*")
    return folded.encode("cp1252", errors="replace").decode("cp1252")


def receipt_pdf(*, purchase: Purchase) -> bytes:
    """The receipt as a one-page A4 PDF."""
    receipt = receipt_of(purchase)
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(pdf_text(_("Receipt %(number)s") % {"number": receipt.number}))
    pdf.set_author(ISSUER)
    pdf.set_creator(ISSUER)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("Helvetica", "B", 22)
    pdf.set_text_color(11, 107, 203)
    pdf.cell(width / 2, 12, ISSUER)
    pdf.set_text_color(31, 41, 51)
    pdf.cell(width / 2, 12, pdf_text(_("Receipt")), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("Helvetica", "", 10)
    facts = [
        (_("Receipt number"), receipt.number),
        (_("Date"), receipt.date),
        (_("Status"), receipt.status),
    ]
    for label, value in facts:
        pdf.set_text_color(82, 96, 109)
        pdf.cell(45, 6, pdf_text(label))
        pdf.set_text_color(31, 41, 51)
        pdf.cell(0, 6, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, pdf_text(_("Billed to")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in [receipt.company, *receipt.address_lines]:
        pdf.multi_cell(0, 5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    if receipt.vat_number:
        vat = _("VAT number: %(number)s") % {"number": receipt.vat_number}
        pdf.cell(0, 5, pdf_text(vat), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    pdf.set_fill_color(245, 247, 250)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(width * 0.7, 8, pdf_text(_("Description")), border="B", fill=True)
    pdf.cell(width * 0.3, 8, pdf_text(_("Amount")), border="B", fill=True, align="R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    _row(pdf, width, receipt.description, str(receipt.amount))
    if receipt.refunded.amount > 0:
        _row(pdf, width, _("Refunded"), f"-{receipt.refunded}")
    pdf.set_font("Helvetica", "B", 11)
    _row(pdf, width, _("Total paid"), str(receipt.net), border="T")
    pdf.ln(6)

    pdf.set_font("Helvetica", "", 10)
    method = receipt.method
    if receipt.reference:
        method = _("%(method)s, reference %(reference)s") % {
            "method": method,
            "reference": receipt.reference,
        }
    pdf.cell(45, 6, pdf_text(_("Paid by")))
    pdf.cell(0, 6, pdf_text(method), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_text_color(107, 119, 133)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        pdf_text(
            _(
                "Credit added to the company balance on %(site)s. Keep this receipt for your "
                "accounts."
            )
            % {"site": settings.SITE_URL}
        ),
    )
    return bytes(pdf.output())


def _row(pdf: FPDF, width: float, label: str, amount: str, border: str = "") -> None:
    pdf.cell(width * 0.7, 8, pdf_text(label), border=border)
    pdf.cell(width * 0.3, 8, pdf_text(amount), border=border, align="R")
    pdf.ln()


def receipt_attachment(purchase_id: str) -> Attachment | None:
    """The receipt PDF attached to the receipt email ("credit.receipt:<purchase id>", see
    outbox.attachments), or None when the purchase is gone or no longer paid."""
    with all_tenants("an email names its purchase by id; the row carries its organization"):
        purchase = (
            Purchase.objects.select_related("organization")
            .filter(pk=int(purchase_id), status=Purchase.Status.PAID)
            .first()
        )
    if purchase is None:
        return None
    return Attachment(
        filename=f"receipt-{purchase.number}.pdf",
        content=receipt_pdf(purchase=purchase),
        mimetype="application/pdf",
    )
