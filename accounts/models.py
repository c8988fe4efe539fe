"""The person who signs in. Their place in each organization is organizations.Member."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class User(AbstractUser):
    # AbstractUser's email is kept as the primary address; allauth's EmailAddress rows hold
    # every address with its verification state and enforce uniqueness.
    phone = PhoneNumberField(_("mobile number"), unique=True, null=True, blank=True)
    phone_verified = models.BooleanField(_("mobile number verified"), default=False)
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full_name = self.get_full_name()
        return full_name or self.email or (str(self.phone) if self.phone else "") or self.username

    def has_verified_contact(self) -> bool:
        """True when the person proved they own an email address or a mobile number."""
        if self.phone and self.phone_verified:
            return True
        return self.emailaddress_set.filter(verified=True).exists()
