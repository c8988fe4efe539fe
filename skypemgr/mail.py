"""The development mailer: every email written to the console as its reader would see it."""

from email.mime.base import MIMEBase

from django.core.mail.backends import console


class ReadableConsoleBackend(console.EmailBackend):
    """Django's console backend without the MIME encoding: the sender, the recipients, the
    subject and the plain-text body, then each attachment by name, type and size (a receipt's
    PDF would otherwise fill the terminal with base64). The HTML part is left out; the
    development outbox (/dev/outbox/) shows it."""

    def write_message(self, message):
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
            f"Subject: {message.subject}",
            "",
            message.body,
        ]
        for attachment in message.attachments:
            if isinstance(attachment, MIMEBase):
                name = attachment.get_filename() or "(unnamed)"
                size = len(attachment.get_payload(decode=True) or b"")
                mimetype = attachment.get_content_type()
            else:
                name, content, mimetype = attachment
                size = len(content)
            lines.append(f"[attached: {name}, {mimetype}, {size} bytes]")
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
