"""allauth hooks: messages go through the outbox (a Celery task, after commit); phone numbers
live on the user; people are named by their name, not by a generated username; failed
sign-ins count against the account, whichever of its identifiers was typed; the client's
address is read by one rule (allauth's trusted-proxy settings) for rate limits and audit."""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email, filter_users_by_username
from allauth.core import ratelimit
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.utils import translation

from accounts.fields import E164PhoneField
from outbox.services import message_queue_email, message_queue_sms

logger = logging.getLogger(__name__)

# The rate (ACCOUNT_RATE_LIMITS) of failed sign-ins per account, whatever identifier was typed.
ACCOUNT_LOCKOUT = "login_failed_account"


def _lockout_key(user_id) -> str:
    return f"account:{user_id}"


def forget_failed_logins(request, user) -> None:
    """Lift the account's lockout: its owner proved who they are (a password reset)."""
    ratelimit.clear(request, action=ACCOUNT_LOCKOUT, key=_lockout_key(user.pk))


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

    # --- Sign-up with an address that has an account --------------------------------------------

    def get_login_stages(self) -> list[str]:
        stock = "allauth.account.stages.EmailVerificationStage"
        return [
            "accounts.stages.SignupEmailVerificationStage" if path == stock else path
            for path in super().get_login_stages()
        ]

    @staticmethod
    def _owners_language(user) -> str:
        return (user.language if user is not None else "") or translation.get_language() or ""

    def send_account_already_exists_mail(self, email: str) -> None:
        """Told in the account owner's language, not the language of whoever typed it."""
        owner = next(iter(filter_users_by_email(email)), None)
        with translation.override(self._owners_language(owner)):
            super().send_account_already_exists_mail(email)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        self._queue_sms("account/sms/verification_code.txt", phone, {"code": code})

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        self._queue_sms("account/sms/unknown_account.txt", phone, {})

    def send_account_already_exists_sms(self, phone: str) -> None:
        with translation.override(self._owners_language(self.get_user_by_phone(phone))):
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

    # --- Failed sign-ins, per account ---------------------------------------------------------

    def _accounts_named(self, credentials: dict) -> set:
        """The ids of the accounts that the typed identifier names, as email, username or
        mobile number (the same ones allauth's backend would check the password of)."""
        ids = set()
        for value in {credentials.get("email"), credentials.get("username")} - {None, ""}:
            ids.update(user.pk for user in filter_users_by_email(value))
        if credentials.get("username"):
            ids.update(
                filter_users_by_username(credentials["username"]).values_list("pk", flat=True)
            )
        if credentials.get("phone"):
            user = self.get_user_by_phone(credentials["phone"])
            if user is not None:
                ids.add(user.pk)
        return ids

    def pre_authenticate(self, request, **credentials) -> None:
        """allauth counts failures per typed identifier and per address; this adds a count per
        account, so that switching from the username to the email or the mobile number does not
        buy five more guesses. Every attempt counts; a successful one clears its account."""
        super().pre_authenticate(request, **credentials)
        self._attempted_accounts = self._accounts_named(credentials)
        for user_id in sorted(self._attempted_accounts):
            if not ratelimit.consume(request, action=ACCOUNT_LOCKOUT, key=_lockout_key(user_id)):
                raise self.validation_error("too_many_login_attempts")

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and user.pk in getattr(self, "_attempted_accounts", ()):
            forget_failed_logins(request, user)
        return user

    # --- The client's address -----------------------------------------------------------------

    def get_client_ip(self, request) -> str:
        """allauth's rule: REMOTE_ADDR, or, behind ALLAUTH_TRUSTED_PROXY_COUNT proxies, the
        address the last of them saw (X-Forwarded-For), or ALLAUTH_TRUSTED_CLIENT_IP_HEADER."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            # Fewer X-Forwarded-For entries than trusted proxies: the request did not come
            # through them all. The connecting address is the only one we can trust.
            logger.warning("X-Forwarded-For has fewer entries than TRUSTED_PROXY_COUNT")
            address = request.META.get("REMOTE_ADDR")
            if not address:
                raise PermissionDenied("Unable to determine client IP address") from None
            return address

    def save_user(self, request, user, form, commit=True):
        user.language = (translation.get_language() or "")[:2]
        return super().save_user(request, user, form, commit=commit)


def user_display(user) -> str:
    """How allauth names a person ("Signed in as …"): ACCOUNT_USER_DISPLAY points here."""
    return user.display_name
