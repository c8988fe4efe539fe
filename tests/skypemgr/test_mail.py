"""The development mailer writes emails as people read them, attachments by name only."""

from io import StringIO

from django.core.mail import EmailMultiAlternatives

from skypemgr.mail import ReadableConsoleBackend
from skypemgr.settings import _mailer_from_url


def test_an_email_is_written_readably_with_its_attachment_named():
    stream = StringIO()
    email = EmailMultiAlternatives(
        subject="Reçu 2026-00001",
        body="Bonjour,\nvotre reçu est joint.",
        from_email="SkypeMgr <no-reply@localhost>",
        to=["ana@example.com"],
    )
    email.attach_alternative("<p>Bonjour</p>", "text/html")
    email.attach("receipt-2026-00001.pdf", b"%PDF-1.3 " + b"x" * 991, "application/pdf")

    assert ReadableConsoleBackend(stream=stream).send_messages([email]) == 1

    written = stream.getvalue()
    assert "To: ana@example.com\nSubject: Reçu 2026-00001\n\nBonjour,\nvotre reçu est joint." in (
        written
    )
    assert "[attached: receipt-2026-00001.pdf, application/pdf, 1000 bytes]" in written
    assert "%PDF" not in written
    assert "base64" not in written


def test_consolemail_urls_use_the_readable_mailer():
    assert _mailer_from_url("consolemail://")["BACKEND"] == "skypemgr.mail.ReadableConsoleBackend"
    assert _mailer_from_url("smtp://localhost:25")["BACKEND"] == (
        "django.core.mail.backends.smtp.EmailBackend"
    )
