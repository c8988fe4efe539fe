"""A sign-up by email waits for the address to be verified before it signs anyone in.

allauth verifies email "optionally" here (phone-only accounts have no address to verify), which
would sign a new person in at once, while a sign-up with an address that already has an account
cannot sign in anybody. The two answers would differ, and tell whether the address is registered.
So, for sign-ups by email only, verification is mandatory: both end on "check your inbox",
the new address receives its verification link and the existing one an "you already have an
account" email (allauth's enumeration prevention). Signing in later is unchanged.
"""

from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.stages import EmailVerificationStage


class SignupEmailVerificationStage(EmailVerificationStage):
    def handle(self):
        login = self.login
        by_email = login.email if login.user is None else getattr(login.user, "email", "")
        if login.signup and by_email:
            login.email_verification = EmailVerificationMethod.MANDATORY
        return super().handle()
