"""Lists of members, and invitations to join an organization.

An invitation reserves a place: it points at a Member row with status "invited" (a new one, or
the former membership of someone invited back), which carries the role, the lists and the
profile given at invite time, so that the directory shows invited people where they will be.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Member, TenantModel
from organizations.roles import Role
from outbox.models import OutboundMessage


class MemberList(TenantModel):
    """A group of members, such as Sales or Support; a member may be in several."""

    name = models.CharField(_("name"), max_length=100)
    members = models.ManyToManyField(
        Member, through="ListMembership", related_name="lists", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="memberlist_unique_name_per_org"
            ),
        ]
        verbose_name = _("list")
        verbose_name_plural = _("lists")

    def __str__(self) -> str:
        return self.name


class ListMembership(TenantModel):
    member_list = models.ForeignKey(MemberList, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member_list", "member"], name="listmembership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} in {self.member_list}"


class Invitation(TenantModel):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        USERNAME = "username", _("Username")
        PHONE = "phone", _("Mobile number")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    channel = models.CharField(_("sent via"), max_length=10, choices=Channel)
    # A lower-case email address, an E.164 number, or a username as typed.
    address = models.CharField(_("sent to"), max_length=254)
    # For the username channel: the account invited; for the others: who accepted.
    invited_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The place the invitation reserves; emptied when a revoked or declined invitation's
    # placeholder (someone who never joined) is deleted.
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.PENDING, db_index=True
    )
    # The link's secret is derived from this nonce and SECRET_KEY (see members.tokens) and is
    # never stored; its SHA-256 finds the invitation. A new nonce kills the old link.
    token_nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    # Phone invitations: the 6-digit code is derived the same way; it expires and allows a
    # few attempts.
    code_nonce = models.CharField(max_length=32, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(_("invited on"), auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel", "address"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_address",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "-created_at"], name="invitation_org_status"
            ),
            models.Index(fields=["status", "expires_at"], name="invitation_status_expiry"),
        ]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        # The address alone: the audit trail stores this label, and it reads in any language.
        return self.address

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()


class InvitationDelivery(TenantModel):
    """One sending of an invitation (first send, resend, new code), with its outgoing message."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        CODE = "code", _("New code")

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.INVITATION)
    channel = models.CharField(max_length=8, choices=OutboundMessage.Channel)
    to = models.CharField(max_length=254)
    # Empty until the task has written the message; stays empty when there was nowhere to
    # send (a username whose account has no verified email: the in-app notice remains).
    message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the task dealt with it: wrote the message, or found nowhere to send it.
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "to", "created_at"], name="delivery_org_to")
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}"


class MemberImport(TenantModel):
    """An uploaded CSV/XLSX of people to invite: parsed, checked row by row, then imported."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Checked, not imported yet")
        IMPORTED = "imported", _("Imported")

    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    # One dict per data row: line number, the cleaned values, and the reasons it is refused.
    rows = models.JSONField(default=list)
    valid_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status, default=Status.PREVIEW)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("member import")
        verbose_name_plural = _("member imports")

    def __str__(self) -> str:
        return self.file_name
