"""allauth hooks: messages go through the outbox (a Celery task, after commit); phone numbers
live on the user."""

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation

from accounts.fields import E164PhoneField
from outbox.services import message_queue_email, message_queue_sms


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # No mailbox has an address over 254 characters (RFC 5321), nor can the outbox store
        # one: nothing to send, and the page answers as for any other unknown address.
        if len(email) > 254:
            return
        request = self.request
        ctx = {"email": email, "request": request}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            "",
        )
        message_queue_email(
            to=email,
            subject=message.subject,
            body=message.body,
            html=html,
            from_address=message.from_email,
            language=translation.get_language() or "",
        )

    def _queue_sms(self, template: str, phone: str, context: dict) -> None:
        body = render_to_string(template, context, self.request).strip()
        message_queue_sms(to=phone, body=body, language=translation.get_language() or "")

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        self._queue_sms("account/sms/verification_code.txt", phone, {"code": code})

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        self._queue_sms("account/sms/unknown_account.txt", phone, {})

    def send_account_already_exists_sms(self, phone: str) -> None:
        self._queue_sms("account/sms/account_already_exists.txt", phone, {})

    def phone_form_field(self, **kwargs):
        return E164PhoneField(**kwargs)

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user) -> tuple[str, bool] | None:
        if not user.phone:
            return None
        return user.phone.as_e164, user.phone_verified

    def set_phone_verified(self, user, phone: str) -> None:
        user.phone = phone
        user.phone_verified = True
        user.save(update_fields=["phone", "phone_verified"])

    def get_user_by_phone(self, phone: str):
        try:
            normalized = E164PhoneField(required=True).clean(phone)
        except ValidationError:
            return None
        return get_user_model().objects.filter(phone=normalized).first()

    def save_user(self, request, user, form, commit=True):
        user.language = (translation.get_language() or "")[:2]
        return super().save_user(request, user, form, commit=commit)
