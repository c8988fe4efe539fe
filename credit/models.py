"""The ledger (Account, Transfer), purchases, Stripe events, and the credit settings and rules.

Money moves only by Transfers, which are immutable (a database trigger refuses UPDATE and
DELETE) and posted by one function, credit.services.ledger.transfer_post. Each account keeps a
cached balance; wallets never go below zero (a CHECK constraint), and all accounts of an
organization always sum to zero (`manage.py check_ledger`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from members.models import MemberList
from organizations.models import Member, Organization, TenantModel

AMOUNT = {"max_digits": 19, "decimal_places": 4, "currency_choices": settings.CURRENCY_CHOICES}


class Account(TenantModel):
    class Kind(models.TextChoices):
        # Wallets hold the organization's money and never go below zero.
        ORGANIZATION = "organization", _("Company balance")
        MEMBER = "member", _("Member balance")
        # System accounts are the other side of every movement and may go below zero.
        PAYMENTS = "payments", _("Payments received")
        USAGE = "usage", _("Usage")
        SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
        RECEIVABLE = "receivable", _("Owed by the company")

    WALLETS = (Kind.ORGANIZATION, Kind.MEMBER)

    kind = models.CharField(max_length=16, choices=Kind)
    member = models.OneToOneField(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    balance = MoneyField(default=0, default_currency="EUR", **AMOUNT)
    # Optional, member wallets only: what usage may spend in a calendar month.
    monthly_spending_cap = MoneyField(null=True, blank=True, default_currency="EUR", **AMOUNT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | ~Q(kind__in=["organization", "member"]),
                name="account_wallet_not_negative",
            ),
            models.UniqueConstraint(
                fields=["organization", "kind"],
                condition=Q(member__isnull=True),
                name="account_one_system_account_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind="member", member__isnull=False)
                | (~Q(kind="member") & Q(member__isnull=True)),
                name="account_member_iff_member_wallet",
            ),
        ]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        if self.kind == self.Kind.MEMBER:
            return gettext("%(kind)s: %(member)s") % {
                "kind": self.get_kind_display(),
                "member": self.member,
            }
        return str(self.get_kind_display())

    @property
    def is_wallet(self) -> bool:
        return self.kind in self.WALLETS


class Transfer(TenantModel):
    """Money moved from one account to another. Never changed: a mistake is fixed by a new
    transfer the other way (`reverses` points at the one it corrects)."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        ALLOCATION = "allocation", _("Allocation")
        TAKE_BACK = "take_back", pgettext_lazy("kind of transfer", "Take back")
        USAGE = "usage", _("Usage")
        SUBSCRIPTION_CHARGE = "subscription_charge", _("Subscription charge")
        SUBSCRIPTION_REFUND = "subscription_refund", _("Subscription refund")
        REFUND = "refund", _("Refund")
        SETTLEMENT = "settlement", _("Settlement of what was owed")
        ADJUSTMENT = "adjustment", _("Adjustment")

    source = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(default_currency="EUR", **AMOUNT)
    kind = models.CharField(max_length=24, choices=Kind)
    actor = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=200)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    # Indexed with the organization (Meta.indexes): every read of transfers names one.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(source=models.F("destination")), name="transfer_two_accounts"
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="transfer_idempotency_key"
            ),
        ]
        indexes = [
            # The history's order and its keyset pages: (created_at, id) from the newest.
            models.Index(
                fields=["organization", "-created_at", "-id"], name="transfer_org_created_id"
            ),
            # The transfers that are not usage (purchases, allocations, charges: a few among a
            # million calls), newest first: the reports' lists and the activity feed, whose
            # queries say `kind <> 'usage'` for the database to use it.
            models.Index(
                fields=["organization", "-created_at", "-id"],
                condition=~Q(kind="usage"),
                name="transfer_org_not_usage",
            ),
            models.Index(fields=["source", "created_at"], name="transfer_source"),
            models.Index(fields=["destination", "created_at"], name="transfer_destination"),
        ]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Purchase(TenantModel):
    """Credit bought: by card or PayPal through Stripe Checkout, by bank transfer, or by an
    automatic off-session charge. Credited once, by the transfer keyed `purchase:<id>`."""

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        PAYPAL = "paypal", _("PayPal")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        AUTO_RECHARGE = "auto_recharge", _("Automatic recharge")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PROCESSING = "processing", _("Payment processing")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")
        REFUNDED = "refunded", _("Refunded")

    IN_FLIGHT = (Status.PENDING, Status.PROCESSING)

    number = models.CharField(_("number"), max_length=32)
    method = models.CharField(_("payment method"), max_length=16, choices=Method)
    amount = MoneyField(_("amount"), default_currency="EUR", **AMOUNT)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PENDING)
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    save_payment_method = models.BooleanField(default=False)
    # The one-time key of the form that started it: a form sent twice makes one purchase.
    form_key = models.CharField(max_length=64, blank=True)
    # A bank transfer's payment reference, shown to the payer.
    reference = models.CharField(max_length=32, blank=True)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    refunded = MoneyField(default=0, default_currency="EUR", **AMOUNT)
    failure_reason = models.CharField(max_length=500, blank=True)
    # A payment for it that our rules could not credit (an amount that does not match, paid
    # after it was canceled...): why, for platform staff, until they mark it handled.
    attention = models.CharField(_("needs attention"), max_length=1000, blank=True)
    attention_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="purchase_number"),
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="purchase_reference"
            ),
            models.UniqueConstraint(
                fields=["organization", "form_key"],
                condition=~Q(form_key=""),
                name="purchase_form_key",
            ),
            # Never two automatic recharges of one organization at once.
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(method="auto_recharge", status__in=["pending", "processing"]),
                name="purchase_one_auto_recharge_in_flight",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="purchase_amount_positive"),
        ]
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")

    def __str__(self) -> str:
        # No amount: audit labels keep this text, and an amount must follow the reader's
        # language (the audit log shows it from the event's data).
        return self.number


class StripeEvent(models.Model):
    """Every Stripe webhook event received, stored once by its id before it is handled."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class CreditSettings(TenantModel):
    """An organization's money settings: billing details, company auto-recharge, alerts."""

    # Receipts and invoices.
    billing_name = models.CharField(_("company name on receipts"), max_length=200, blank=True)
    billing_address = models.TextField(_("billing address"), blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    # Company auto-recharge: charge the saved payment method off-session.
    auto_recharge_enabled = models.BooleanField(_("automatic recharge"), default=False)
    auto_recharge_threshold = MoneyField(
        _("when the balance falls below"), default=0, default_currency="EUR", **AMOUNT
    )
    auto_recharge_amount = MoneyField(
        _("recharge with"), default=0, default_currency="EUR", **AMOUNT
    )
    auto_recharge_monthly_max = MoneyField(
        _("at most per month"), default=0, default_currency="EUR", **AMOUNT
    )
    auto_recharge_disabled_reason = models.CharField(max_length=500, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_payment_method_id = models.CharField(max_length=255, blank=True)
    payment_method_label = models.CharField(max_length=100, blank=True)
    # An email to admins when the company balance falls below this (0: never).
    low_balance_warning = MoneyField(
        _("warn admins below"), default=0, default_currency="EUR", **AMOUNT
    )
    low_balance_warned_at = models.DateTimeField(null=True, blank=True)
    # Finance members the owner lets buy credit.
    purchasers = models.ManyToManyField(Member, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="creditsettings_one_per_org"),
        ]
        verbose_name = _("credit settings")
        verbose_name_plural = _("credit settings")

    def __str__(self) -> str:
        return f"Credit settings of {self.organization_id}"


class CreditRule(TenantModel):
    """A standing instruction for members' credit: a member auto-recharge ("recharge with X
    when the balance falls below Y, at most Z a month") or a monthly allocation ("add X" or
    "top up to X" on the 1st), for one member, a list, or everyone."""

    class Kind(models.TextChoices):
        AUTO_RECHARGE = "auto_recharge", _("Automatic recharge")
        MONTHLY_ADD = "monthly_add", _("Add each month")
        MONTHLY_TOP_UP = "monthly_top_up", _("Top up each month")

    kind = models.CharField(_("rule"), max_length=16, choices=Kind)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    member_list = models.ForeignKey(
        MemberList, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Neither member nor list: everyone.
    amount = MoneyField(_("amount"), default_currency="EUR", **AMOUNT)
    threshold = MoneyField(
        _("when the balance falls below"), null=True, blank=True, default_currency="EUR", **AMOUNT
    )
    monthly_max = MoneyField(
        _("at most per month"), null=True, blank=True, default_currency="EUR", **AMOUNT
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="creditrule_amount_positive"),
            models.CheckConstraint(
                condition=~Q(member__isnull=False, member_list__isnull=False),
                name="creditrule_one_target",
            ),
        ]
        verbose_name = _("credit rule")
        verbose_name_plural = _("credit rules")

    def __str__(self) -> str:
        # No amount, as for purchases: the audit log shows it from the event's data.
        return str(self.get_kind_display())


class CreditRuleRun(TenantModel):
    """One run of a monthly rule for one period: the unique constraint makes it happen once."""

    rule = models.ForeignKey(CreditRule, on_delete=models.CASCADE, related_name="runs")
    period = models.DateField()
    members_credited = models.PositiveIntegerField(default=0)
    total = MoneyField(default=0, default_currency="EUR", **AMOUNT)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "period"], name="creditrulerun_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.period}"


class CreditRuleRecharge(TenantModel):
    """One automatic recharge of a member by a rule: the n-th of the member in a month (the
    organization's month). Written with its transfer, in the same transaction, by the rules
    service; the month's recharges are counted and listed from here, by indexed columns."""

    rule = models.ForeignKey(
        CreditRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="recharges"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    number = models.PositiveSmallIntegerField()
    amount = MoneyField(default_currency="EUR", **AMOUNT)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rule", "member", "month", "number"],
                name="creditrulerecharge_once",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "month"], name="creditrulerecharge_month"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.member_id} {self.month:%Y-%m} #{self.number}"


class DailyRollup(TenantModel):
    """What one member spent on one day (the organization's time zone) in one category, kept by
    every posting in the same transaction (`credit.services.rollups`), so that dashboards and
    caps read a few rows instead of scanning usage. `amount` is net of refunds and adjustments;
    `quantity` is seconds for calls and messages for SMS; `records` counts the calls, messages
    or charges. Categories: "call:<country>", "sms", "number", "voicemail", "subscription".
    `manage.py check_rollups` compares them with usage records and transfers."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    category = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=19, decimal_places=4, default=0)
    quantity = models.BigIntegerField(default=0)
    records = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member", "day", "category"], name="daily_rollup_one"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "day"], name="daily_rollup_org_day"),
            models.Index(fields=["member", "day"], name="daily_rollup_member_day"),
        ]


class MonthlyRollup(TenantModel):
    """DailyRollup summed by calendar month (the organization's time zone): the same member,
    category and totals, one row a month instead of one a day, so that monthly and annual
    reports read a few thousand rows for a thousand members. Written with the daily rows, in
    the same statement (`credit.services.rollups`); `check_rollups` proves each equals the sum
    of its days."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    category = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=19, decimal_places=4, default=0)
    quantity = models.BigIntegerField(default=0)
    records = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member", "month", "category"],
                name="monthly_rollup_one",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="monthly_rollup_first_day"),
        ]
        indexes = [
            models.Index(fields=["organization", "month"], name="monthly_rollup_org_month"),
            models.Index(fields=["member", "month"], name="monthly_rollup_member_month"),
        ]


class LedgerRollup(TenantModel):
    """What moved in and out of one account in one calendar month (the organization's time
    zone), per kind of transfer: the ledger summed, so that a report's opening and closing
    balances, purchases, allocations and charges read a few rows per account instead of every
    transfer. Written by the ledger's writer in the transaction that posts the transfers, while
    it holds the accounts' locks (so these rows never add a wait). `account_kind` is the
    account's (which never changes), kept here so that reports need no join.
    `check_rollups` proves the rows equal the transfers."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    account_kind = models.CharField(max_length=16, choices=Account.Kind)
    month = models.DateField()
    kind = models.CharField(max_length=24, choices=Transfer.Kind)
    amount_in = models.DecimalField(max_digits=19, decimal_places=4, default=0)
    amount_out = models.DecimalField(max_digits=19, decimal_places=4, default=0)
    transfers = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "account", "month", "kind"], name="ledger_rollup_one"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="ledger_rollup_first_day"),
        ]
        indexes = [
            models.Index(
                fields=["organization", "month", "account_kind"], name="ledger_rollup_org_month"
            ),
            models.Index(fields=["account", "month"], name="ledger_rollup_account_month"),
        ]


class DailyTotal(TenantModel):
    """DailyRollup summed over the members: what the whole organization spent per day and
    category, for the reports' days, categories and months (a few hundred rows a month instead
    of one per member). Written with the daily rows; its writers already hold the usage or the
    subscriptions account's lock (usage and feature charges), so these shared rows never make
    two postings wait on each other in a cycle. `check_rollups` proves it."""

    day = models.DateField()
    category = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=19, decimal_places=4, default=0)
    quantity = models.BigIntegerField(default=0)
    records = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "category"], name="daily_total_one"
            ),
        ]


class MemberMonthTotal(TenantModel):
    """A member's month with the categories folded into the reports' columns: calls (count and
    seconds), messages, calls and messages' cost, features' cost, and the whole. The members',
    lists' and departments' tables read one row per member and month. Written with the
    monthly rows; `check_rollups` proves it."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    calls = models.IntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    messages = models.BigIntegerField(default=0)
    usage = models.DecimalField(max_digits=19, decimal_places=4, default=0)
    features = models.DecimalField(max_digits=19, decimal_places=4, default=0)
    amount = models.DecimalField(max_digits=19, decimal_places=4, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member", "month"], name="member_month_total_one"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="member_month_total_first"),
        ]
        indexes = [
            models.Index(fields=["organization", "month"], name="member_month_total_org"),
        ]
