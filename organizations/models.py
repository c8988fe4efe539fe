"""The tenant (Organization), a person's membership of it (Member) and its audit trail.

Every row that belongs to an organization derives from TenantModel: it carries an indexed
`organization` and its default manager refuses to query without one in scope.
"""

import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from organizations.roles import Role
from organizations.scoping import TenantManager

TIME_ZONE_CHOICES = [
    *sorted(
        (name, name.replace("_", " "))
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    ),
    ("UTC", "UTC"),
]


class Organization(models.Model):
    name = models.CharField(_("company name"), max_length=100)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    country = CountryField(_("country"))
    currency = models.CharField(_("currency"), max_length=3, choices=settings.CURRENCY_CHOICES)
    # Validated against the zoneinfo database by forms and services, not by model choices,
    # whose list would follow whichever tzdata the machine has.
    time_zone = models.CharField(_("time zone"), max_length=64)
    # Set by the ledger with the first transfer; from then on the currency cannot change.
    currency_locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Platform staff set this after checking the company; it raises purchase limits.
    verified = models.BooleanField(_("verified by platform staff"), default=False)
    invitation_expiry_days = models.PositiveSmallIntegerField(
        _("invitations expire after (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # Set by platform staff; it keeps a compromised or abusive account from mass-mailing.
    invitation_daily_limit = models.PositiveIntegerField(_("invitations per day"), default=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def currency_locked(self) -> bool:
        return self.currency_locked_at is not None


class TenantModel(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=True
    )

    objects = TenantManager()

    class Meta:
        abstract = True


class Member(TenantModel):
    """A person's membership of one organization, with their role and their profile in it."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Former member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.MEMBER)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ACTIVE)
    display_name = models.CharField(_("name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = PhoneNumberField(_("mobile number"), blank=True)
    username = models.CharField(_("username"), max_length=150, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    joined_at = models.DateTimeField(_("joined on"), null=True, blank=True)
    removed_at = models.DateTimeField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="member_unique_user_per_org"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "role"], name="member_org_status_role"),
            models.Index("organization", Lower("email"), name="member_org_email"),
        ]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return self.display_name or self.email or str(self.phone) or self.username

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class AuditEvent(TenantModel):
    """Who did what, when, from where. Append-only: a database trigger refuses updates."""

    # Memberships are never deleted (they end as "removed"); RESTRICT still lets a whole
    # organization be deleted, where its events go with it.
    actor = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    # The actor's name at the time, so the trail reads the same after a rename.
    actor_label = models.CharField(max_length=200, blank=True)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.actor_label} {self.verb} {self.target_label}".strip()

    @property
    def verb_display(self) -> str:
        return str(AUDIT_VERBS.get(self.verb) or _("Other action"))

    @cached_property
    def sentence(self):
        """What happened, in one sentence (safe HTML). Pages showing many events set it for
        all of them at once with organizations.audit_sentences.audit_events_describe."""
        from organizations.audit_sentences import audit_events_describe

        audit_events_describe(self.organization, [self])
        return self.__dict__["sentence"]


# What each audit verb means, for people reading the trail. Apps above this one add theirs
# with register_audit_verbs() in their AppConfig.ready().
AUDIT_VERBS: dict[str, str] = {
    "organization.created": _("created the organization"),
    "organization.updated": _("changed the organization's settings"),
    "member.joined": _("joined the organization"),
    "member.added": _("added member"),
}


def register_audit_verbs(verbs: dict[str, str]) -> None:
    AUDIT_VERBS.update(verbs)
