"""Calls and messages and what they cost.

The rate table (Rate) is the platform's, like the plan catalog: every organization is priced
from it, in its own currency. Everything else belongs to one organization (TenantModel):

- UsageRecord: one call or message, recorded once per (organization, source, external id),
  priced (`usage.pricing`), and debited through the ledger (`usage_record_ingest`);
- CallReservation: what an authorized call in progress may still cost, held until it ends so
  that two calls at once cannot spend the same credit;
- IncludedMinutes: the seconds of a calling subscription's monthly minutes used so far;
- ApiKey: the keys a company's PBX posts call records with (stored hashed);
- UsageSettings and UsageAlert: the organization's usage policy and the alerts already sent.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.models import Member, TenantModel

DECIMAL = {"max_digits": 19, "decimal_places": 4}


class Rate(models.Model):
    """The price of calling (per minute) and texting (per message) numbers that start with
    `prefix` (E.164 digits, no "+"), in one currency. The longest prefix that matches a number
    wins. Not a tenant row: edited by platform staff, loaded by `manage.py load_rates`."""

    class Increment(models.TextChoices):
        MINUTE = "minute", _("Per minute")
        SECOND = "second", _("Per second after the first minute")

    class LineType(models.TextChoices):
        LANDLINE = "landline", _("Landline")
        MOBILE = "mobile", _("Mobile")
        OTHER = "other", _("Other")

    prefix = models.CharField(_("prefix"), max_length=15)
    country = models.CharField(_("country"), max_length=2)
    description = models.CharField(_("destination"), max_length=100)
    line_type = models.CharField(_("type"), max_length=8, choices=LineType, default="landline")
    currency = models.CharField(_("currency"), max_length=3)
    per_minute = models.DecimalField(_("per minute"), **DECIMAL)
    per_sms = models.DecimalField(_("per SMS"), **DECIMAL)
    increment = models.CharField(_("billing"), max_length=6, choices=Increment, default="minute")
    blocked = models.BooleanField(_("blocked"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "prefix"], name="rate_currency_prefix"),
            models.CheckConstraint(condition=Q(prefix__regex=r"^[0-9]{1,15}$"), name="rate_digits"),
            models.CheckConstraint(
                condition=Q(per_minute__gte=0, per_sms__gte=0), name="rate_not_negative"
            ),
        ]
        verbose_name = _("rate")
        verbose_name_plural = _("rates")

    def __str__(self) -> str:
        return f"+{self.prefix} {self.description} ({self.currency})"


class UsageRecord(TenantModel):
    """One call or message. Immutable once priced, except `provider_cost` and `adjustment`,
    which a later price of the same record sets once."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        SMS = "sms", _("SMS")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outgoing")
        INBOUND = "inbound", _("Incoming")

    class Source(models.TextChoices):
        TWILIO = "twilio", _("Twilio")
        API = "api", _("Call-record API")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=4, choices=Kind)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction, default="outbound"
    )
    destination = models.CharField(_("destination"), max_length=32)
    country = models.CharField(_("country"), max_length=2, blank=True)
    started_at = models.DateTimeField(_("date"))
    seconds = models.PositiveIntegerField(_("duration (seconds)"), default=0)
    units = models.PositiveIntegerField(_("messages"), default=0)
    # What was billed: seconds after the billing increment, of which `included_seconds` came
    # from `subscription`'s monthly minutes; the rest at `rate` (per minute or per message).
    billed_seconds = models.PositiveIntegerField(default=0)
    included_seconds = models.PositiveIntegerField(_("included seconds"), default=0)
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rate = models.DecimalField(_("rate"), null=True, blank=True, **DECIMAL)
    rate_prefix = models.CharField(max_length=15, blank=True)
    cost = models.DecimalField(_("cost"), **DECIMAL)
    currency = models.CharField(max_length=3)
    # How the cost was paid: from the member's wallet, the company balance, and what is owed.
    from_member = models.DecimalField(default=0, **DECIMAL)
    from_company = models.DecimalField(default=0, **DECIMAL)
    owed = models.DecimalField(default=0, **DECIMAL)
    # The provider's own price, when it sends one (Twilio's later price, an API record's cost).
    provider_cost = models.DecimalField(null=True, blank=True, **DECIMAL)
    adjustment = models.DecimalField(default=0, **DECIMAL)
    source = models.CharField(_("source"), max_length=8, choices=Source)
    external_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="usage_record_once"
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="usage_cost_not_negative"),
        ]
        indexes = [
            models.Index(fields=["member", "-started_at", "-id"], name="usage_member_started"),
            models.Index(fields=["organization", "-started_at", "-id"], name="usage_org_started"),
        ]
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")

    def __str__(self) -> str:
        return f"{self.kind} {self.destination} {self.started_at:%Y-%m-%d %H:%M}"


class CallReservation(TenantModel):
    """Credit and included seconds held for a call or message in progress, from its
    authorization until its record arrives (or it expires)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=4, choices=UsageRecord.Kind, default="call")
    # The call (Twilio's CallSid of the member's leg) or message it holds for.
    reference = models.CharField(max_length=64)
    destination = models.CharField(max_length=32)
    amount = models.DecimalField(**DECIMAL)
    seconds = models.PositiveIntegerField(default=0)
    included_seconds = models.PositiveIntegerField(default=0)
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "reference"], name="call_reservation_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["member", "expires_at"],
                condition=Q(released_at__isnull=True),
                name="call_reservation_held",
            ),
        ]


class IncludedMinutes(TenantModel):
    """Seconds used of a calling subscription's minutes in one calendar month (the
    organization's time zone)."""

    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField()
    used_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "month"], name="included_minutes_month"
            ),
        ]


class ApiKey(TenantModel):
    """A key a company's PBX or provider posts call records with. Only its hash is kept; the
    key itself is shown once, when it is created."""

    name = models.CharField(_("name"), max_length=100)
    # The first characters of the key, shown to tell keys apart ("smk_ab12…").
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class UsageSettings(TenantModel):
    """The organization's usage policy: one row, created with the organization."""

    mask_destinations = models.BooleanField(
        _("hide the last digits of numbers called"),
        default=False,
        help_text=_("Owners and finance staff still see whole numbers."),
    )
    unusual_spend_factor = models.PositiveSmallIntegerField(
        _("unusual spend"),
        default=5,
        help_text=_(
            "Alert the admins when a member spends in a day more than this many times their "
            "average day of the last 30 days."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="usage_settings_one"),
            models.CheckConstraint(
                condition=Q(unusual_spend_factor__gte=2, unusual_spend_factor__lte=100),
                name="usage_settings_factor_range",
            ),
        ]
        verbose_name = _("usage settings")
        verbose_name_plural = _("usage settings")


class UsageAlert(TenantModel):
    """An alert sent: at most one per (member, kind, period), so a cap crossed twice in a month,
    or unusual spend seen all day, is told once."""

    class Kind(models.TextChoices):
        # Words, not "%": a "%" in a message would be read as a placeholder.
        CAP_80 = "cap_80", _("80 percent of the monthly cap")
        CAP_100 = "cap_100", _("Monthly cap reached")
        ZERO = "zero", _("Balance reached zero")
        UNUSUAL = "unusual", _("Unusual spend")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind)
    # The month (caps), the day (unusual spend, zero balance) the alert is for.
    period = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member", "kind", "period"], name="usage_alert_once"
            ),
        ]
