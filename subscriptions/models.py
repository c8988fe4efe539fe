"""The features credit pays for: the plan catalog, members' subscriptions and their renewals,
online numbers, voicemail, and what each member may use.

The catalog (Plan, PlanPrice) is the platform's, shared by every organization and edited by
platform staff; everything else belongs to one organization (TenantModel). A subscription is
charged from the company balance once per period: each period is a Renewal row, unique per
(subscription, period start), and its charge is the transfer keyed `subscription_charge_key`.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from organizations.models import Member, TenantModel

PERIOD_CHOICES = [
    (1, _("1 month")),
    (3, _("3 months")),
    (12, _("12 months")),
]


class Plan(models.Model):
    """Something the catalog offers. Not a tenant row: every organization sees the same plans,
    priced in its currency (a plan without a price in that currency is not offered)."""

    class Kind(models.TextChoices):
        CALLING = "calling", _("Calling subscription")
        NUMBER = "number", _("Online number")
        VOICEMAIL = "voicemail", _("Voicemail")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    name = models.CharField(_("name (English)"), max_length=100)
    name_fr = models.CharField(_("name (French)"), max_length=100, blank=True)
    # Calling plans: the countries it reaches (ISO codes) or a named region, and the minutes
    # included per month of the period (None: unlimited).
    destinations = ArrayField(
        models.CharField(max_length=2), blank=True, default=list, verbose_name=_("destinations")
    )
    region = models.CharField(_("region"), max_length=60, blank=True)
    landlines_only = models.BooleanField(_("landlines only"), default=False)
    minutes = models.PositiveIntegerField(_("minutes per month"), null=True, blank=True)
    # Online numbers: the country the number is in.
    country = CountryField(_("country"), blank=True)
    voicemail_included = models.BooleanField(_("voicemail included"), default=False)
    active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["kind", "position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="number") | ~Q(country=""), name="plan_number_has_country"
            ),
        ]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language (English when there is no translation)."""
        if (get_language() or "").startswith("fr") and self.name_fr:
            return self.name_fr
        return self.name


class PlanPrice(models.Model):
    """What a plan costs for one period, in one currency."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(_("currency"), max_length=3, choices=settings.CURRENCY_CHOICES)
    period_months = models.PositiveSmallIntegerField(_("period"), choices=PERIOD_CHOICES)
    amount = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["plan", "currency", "period_months"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "currency", "period_months"], name="plan_price_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_price_positive"),
            models.CheckConstraint(
                condition=Q(period_months__in=[1, 3, 12]), name="plan_price_period"
            ),
        ]
        verbose_name = _("price")
        verbose_name_plural = _("prices")

    def __str__(self) -> str:
        return f"{self.plan.code} {self.amount} {self.currency} / {self.period_months}"


class FeatureSettings(TenantModel):
    """An organization's renewal policy; one row per organization, created with it."""

    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"),
        default=7,
        validators=[MinValueValidator(0), MaxValueValidator(60)],
        help_text=_("How long an unpaid renewal is retried before the feature is suspended."),
    )
    number_hold_days = models.PositiveSmallIntegerField(
        _("keep suspended numbers for (days)"),
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(365)],
        help_text=_("A suspended number is released only after this, so a late payment saves it."),
    )
    # Renew only while the company balance stays at or above this after the charge (None: any).
    renew_min_balance = models.DecimalField(
        _("renew only if the company balance stays above"),
        max_digits=19,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    notice_days = models.PositiveSmallIntegerField(
        _("warn admins this many days before a large renewal run"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    # A renewal run at least this large (the total due on one day) is announced to admins.
    notice_threshold = models.DecimalField(
        _("a renewal run is large from"),
        max_digits=19,
        decimal_places=4,
        default=100,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="feature_settings_once"),
        ]
        verbose_name = _("feature settings")
        verbose_name_plural = _("feature settings")

    def __str__(self) -> str:
        return str(_("Feature settings"))


class Subscription(TenantModel):
    """A plan assigned to a member, paid period by period from the company balance."""

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", _("Being set up")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Past due")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    # Statuses that hold the feature (or try to): renewals look only at these.
    LIVE = (Status.PROVISIONING, Status.ACTIVE, Status.PAST_DUE, Status.SUSPENDED)
    # Statuses a member can use.
    USABLE = (Status.ACTIVE, Status.PAST_DUE)

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status)
    period_months = models.PositiveSmallIntegerField(_("period"), choices=PERIOD_CHOICES)
    # Applies from the next renewal on (None: keep period_months).
    next_period_months = models.PositiveSmallIntegerField(
        _("period from the next renewal"), choices=PERIOD_CHOICES, null=True, blank=True
    )
    # The day of the month periods start on, in the organization's time zone: a plan bought on
    # the 31st renews on the last day of shorter months and on the 31st again after them.
    anchor_day = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"), db_index=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=True)
    cancel_at_period_end = models.BooleanField(_("cancelled at period end"), default=False)
    # Online numbers: what was asked for, then what was bought.
    number_country = CountryField(_("number country"), blank=True)
    number_area = models.CharField(_("area code"), max_length=10, blank=True)
    number_requested = models.CharField(_("number asked for"), max_length=20, blank=True)
    phone_number = models.CharField(_("number"), max_length=20, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(_("reason"), max_length=500, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The one-time key of the assign form: a form sent twice assigns once.
    form_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period_end", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "form_key", "member"],
                condition=~Q(form_key=""),
                name="subscription_form_key",
            ),
            # A number belongs to one subscription until it is released.
            models.UniqueConstraint(
                fields=["phone_number"],
                condition=~Q(phone_number="") & Q(released_at__isnull=True),
                name="subscription_number_held_once",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="subscription_period_forward",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "member", "status"], name="subscription_member"),
            models.Index(fields=["status", "period_end"], name="subscription_due"),
        ]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return self.plan.display_name

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def is_usable(self) -> bool:
        return self.status in self.USABLE


class Renewal(TenantModel):
    """One period of a subscription and its charge. The first period is one too, so that
    every charge of a subscription is exactly one row per period start."""

    class Status(models.TextChoices):
        PAID = "paid", _("Paid")
        DUE = "due", _("Waiting for credit")
        ABANDONED = "abandoned", _("Not paid")
        REFUNDED = "refunded", _("Refunded")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="renewals"
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    period_months = models.PositiveSmallIntegerField(choices=PERIOD_CHOICES)
    amount = models.DecimalField(max_digits=19, decimal_places=4)
    status = models.CharField(max_length=10, choices=Status)
    transfer = models.OneToOneField(
        "credit.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"], name="renewal_once_per_period"
            ),
        ]
        verbose_name = _("renewal")
        verbose_name_plural = _("renewals")

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.period_start:%Y-%m-%d}"


class MemberFeatures(TenantModel):
    """What one member may use and how their calls behave. Created when first needed; a member
    without a row may use everything and has no forwarding, caller ID or greeting."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="features")
    may_call = models.BooleanField(_("calls"), default=True)
    may_sms = models.BooleanField(_("SMS"), default=True)
    may_numbers = models.BooleanField(_("online numbers"), default=True)
    may_voicemail = models.BooleanField(_("voicemail"), default=True)
    forwarding_number = PhoneNumberField(_("forward calls to"), blank=True)
    caller_id = models.ForeignKey(
        Subscription,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("caller ID"),
    )
    greeting_text = models.CharField(_("voicemail greeting"), max_length=500, blank=True)
    # An uploaded greeting (audio), kept in the database: it is small and rarely read.
    greeting_audio = models.BinaryField(blank=True, default=b"", editable=False)
    greeting_audio_type = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("member features")
        verbose_name_plural = _("member features")

    def __str__(self) -> str:
        return str(self.member)


class Voicemail(TenantModel):
    """A message left on a member's number, recorded by Twilio."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="voicemails")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    caller = models.CharField(_("from"), max_length=40, blank=True)
    duration = models.PositiveIntegerField(_("length (seconds)"), default=0)
    recording_sid = models.CharField(max_length=64)
    recording_url = models.URLField(max_length=500)
    audio = models.BinaryField(blank=True, default=b"", editable=False)
    audio_type = models.CharField(max_length=40, blank=True)
    listened = models.BooleanField(_("listened"), default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recording_sid"], name="voicemail_recording_once"),
        ]
        verbose_name = _("voicemail")
        verbose_name_plural = _("voicemails")

    def __str__(self) -> str:
        return f"{self.caller} ({self.duration}s)"
