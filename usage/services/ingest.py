"""Recording calls and messages once, pricing them, and debiting them.

Owns UsageRecord and IncludedMinutes, and the `usage` transfers. `usage_records_ingest` takes a
batch (the API's up to 1,000 records, or one Twilio callback) and, in one transaction:

1. locks the wallets of the members concerned and the company balance, the receivable and the
   usage accounts, in id order (the ledger's order); two batches for the same members queue;
2. drops records seen before (unique per organization, source and external id: "duplicate")
   and refuses the ones it cannot price ("rejected", with the reason) without failing the rest;
3. prices each record (usage.pricing): the source's own cost when it gives one, else the rate
   table's, taking a calling subscription's included minutes first;
4. debits each cost from the member's wallet down to zero, then from the company balance, and
   books what is still missing as owed (the receivable, which the next purchase settles);
5. adds the records to the daily rollups, adds the seconds taken to the included minutes,
   and releases the holds of the calls and messages they close (CallReservation).

Usage that happened is always recorded: a wallet at zero does not refuse it. After commit, the
alerts are checked (usage.tasks.alerts). `usage_record_reprice` applies a later price (Twilio's
own, an API record sent again with its cost) once, as one adjustment.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import phonenumbers
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.services import rollups
from credit.services.ledger import (
    Movement,
    accounts_lock,
    member_wallets,
    system_account,
    transfers_post,
)
from organizations.models import Member, Organization
from subscriptions.models import Plan, Subscription
from usage.models import CallReservation, IncludedMinutes, Rate, UsageRecord
from usage.pricing import PLACES, call_cost, sms_cost
from usage.selectors.allowance import included_seconds_of
from usage.selectors.rates import number_digits, terms_of

logger = logging.getLogger(__name__)

# A call longer than a day is not a call.
LONGEST_SECONDS = 24 * 60 * 60
MOST_UNITS = 100
MOST_COST = Decimal("100000")


@dataclass
class UsageInput:
    member: Member | None
    kind: str
    destination: str
    started_at: datetime.datetime
    source: str
    external_id: str
    seconds: int = 0
    units: int = 0
    direction: str = UsageRecord.Direction.OUTBOUND
    cost: Decimal | None = None
    # The hold (CallReservation reference) this record closes, if any.
    reservation: str = ""


@dataclass
class Outcome:
    external_id: str
    status: str  # "created", "duplicate" or "rejected"
    reason: str = ""
    record: UsageRecord | None = None


@dataclass
class _Priced:
    index: int
    data: UsageInput
    digits: str
    country: str
    rate: Rate | None
    billed: int = 0
    included: int = 0
    subscription: Subscription | None = None
    cost: Decimal = Decimal(0)
    parts: dict = field(default_factory=dict)


def usage_key(source: str, external_id: str) -> str:
    """The idempotency key of a record's debit (its company and owed parts add a suffix)."""
    return f"usage:{source}:{external_id}"


def usage_records_ingest(
    *, organization: Organization, records: Sequence[UsageInput]
) -> list[Outcome]:
    """Record, price and debit `records` (see the module's docstring); one Outcome each, in
    order. Two batches racing over the same external id for different members: the loser's
    transaction fails on the unique constraint and runs again, finding it a duplicate."""
    outcomes: list[Outcome | None] = [None] * len(records)
    valid = []
    seen = set()
    for index, record in enumerate(records):
        reason = _invalid(organization, record)
        key = (record.source, record.external_id)
        if reason:
            outcomes[index] = Outcome(record.external_id, "rejected", reason)
        elif key in seen:
            outcomes[index] = Outcome(record.external_id, "duplicate")
        else:
            seen.add(key)
            valid.append((index, record))
    if valid:
        try:
            created = _ingest(organization, valid, outcomes)
        except IntegrityError:
            created = _ingest(organization, valid, outcomes)
        if created:
            members = sorted({record.member_id for record in created})
            transaction.on_commit(lambda: _alerts_check(organization.pk, members), robust=True)
    return outcomes  # type: ignore[return-value]


def _alerts_check(organization_id: int, member_ids: list[int]) -> None:
    from usage.tasks.alerts import check_usage_alerts

    check_usage_alerts.delay(organization_id, member_ids)


def _invalid(organization: Organization, record: UsageInput) -> str:
    """Why a record cannot be taken as it is, or ""."""
    if not record.external_id or len(record.external_id) > 100 or "\x00" in record.external_id:
        return _("An external id of 1 to 100 characters is required.")
    if record.member is None or record.member.organization_id != organization.pk:
        return _("Unknown member.")
    if record.member.status == Member.Status.INVITED:
        return _("This person has not joined yet.")
    if record.kind not in UsageRecord.Kind.values:
        return _("The kind must be call or sms.")
    if record.direction not in UsageRecord.Direction.values:
        return _("The direction must be outbound or inbound.")
    if record.started_at is None or timezone.is_naive(record.started_at):
        return _("The start needs a date, a time and a time zone.")
    if record.started_at > timezone.now() + datetime.timedelta(minutes=10):
        return _("The start is in the future.")
    if record.kind == UsageRecord.Kind.CALL and not 0 <= record.seconds <= LONGEST_SECONDS:
        return _("A call lasts from 0 to 86,400 seconds.")
    if record.kind == UsageRecord.Kind.SMS and not 1 <= record.units <= MOST_UNITS:
        return _("A message has from 1 to 100 parts.")
    if record.cost is not None:
        try:
            cost = Decimal(record.cost)
        except (InvalidOperation, TypeError, ValueError):
            return _("The cost is not a number.")
        if not cost.is_finite() or cost < 0 or cost > MOST_COST or cost != cost.quantize(PLACES):
            return _("The cost must be from 0 to 100,000 with at most 4 decimal places.")
    region = str(organization.country) or None
    if not number_digits(record.destination, region=region):
        return _("The destination is not a phone number.")
    return ""


def _ingest(organization: Organization, valid, outcomes) -> list[UsageRecord]:
    currency = organization.currency
    with transaction.atomic():
        members = {record.member.pk: record.member for _, record in valid}
        wallets = member_wallets(organization, list(members.values()))
        company = system_account(organization, Account.Kind.ORGANIZATION)
        receivable = system_account(organization, Account.Kind.RECEIVABLE)
        usage = system_account(organization, Account.Kind.USAGE)
        locked = accounts_lock(organization, [*wallets.values(), company, receivable, usage])
        balances = {pk: account.balance.amount for pk, account in locked.items()}

        seen = set(
            UsageRecord.objects.for_org(organization)
            .filter(
                source__in={record.source for _, record in valid},
                external_id__in=[record.external_id for _, record in valid],
            )
            .values_list("source", "external_id")
        )
        fresh = []
        for index, record in valid:
            if (record.source, record.external_id) in seen:
                outcomes[index] = Outcome(record.external_id, "duplicate")
            else:
                fresh.append((index, record))
        if not fresh:
            return []

        region = str(organization.country) or None
        digits = {
            index: number_digits(record.destination, region=region) for index, record in fresh
        }
        rates = _rates_for(currency, set(digits.values()))
        included = _IncludedLeft(organization, [record for _, record in fresh])
        priced = []
        for index, record in fresh:
            rate = _longest(rates, digits[index])
            outbound = record.direction == UsageRecord.Direction.OUTBOUND
            if rate is None and record.cost is None and outbound:
                outcomes[index] = Outcome(
                    record.external_id, "rejected", _("This destination has no price here.")
                )
                continue
            item = _Priced(
                index=index,
                data=record,
                digits=digits[index],
                country=rate.country if rate else _country_of(digits[index]),
                rate=rate,
            )
            _price(organization, item, included)
            _split(item, balances, wallets[record.member.pk].pk, company.pk, receivable.pk)
            priced.append(item)
        if not priced:
            return []

        created = UsageRecord.objects.for_org(organization).bulk_create(
            [_record(organization, item) for item in priced]
        )
        movements = []
        for item, record in zip(priced, created, strict=True):
            movements += _movements(
                organization,
                item,
                record,
                locked[wallets[record.member_id].pk],
                locked[company.pk],
                locked[receivable.pk],
                locked[usage.pk],
            )
        transfers_post(organization=organization, actor=None, movements=movements)
        rollups.rollups_add(organization, [_rollup(organization, record) for record in created])
        included.save()
        references = [item.data.reservation for item in priced if item.data.reservation]
        if references:
            CallReservation.objects.for_org(organization).filter(
                reference__in=references, released_at__isnull=True
            ).update(released_at=timezone.now())
        for item, record in zip(priced, created, strict=True):
            outcomes[item.index] = Outcome(record.external_id, "created", record=record)
        return created


def _rates_for(currency: str, numbers: set[str]) -> dict[str, Rate]:
    """Every rate whose prefix starts one of `numbers`, by prefix (one query)."""
    prefixes = {
        number[:length] for number in numbers for length in range(1, min(len(number), 15) + 1)
    }
    if not prefixes:
        return {}
    return {
        rate.prefix: rate for rate in Rate.objects.filter(currency=currency, prefix__in=prefixes)
    }


def _longest(rates: dict[str, Rate], digits: str) -> Rate | None:
    for length in range(min(len(digits), 15), 0, -1):
        rate = rates.get(digits[:length])
        if rate is not None:
            return rate
    return None


def _country_of(digits: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse("+" + digits)) or ""
    except phonenumbers.NumberParseException:
        return ""


class _IncludedLeft:
    """The included seconds of the members' calling subscriptions, by (subscription, month),
    as the batch takes them; `save` adds what it took to IncludedMinutes."""

    def __init__(self, organization: Organization, records: Sequence[UsageInput]):
        self.organization = organization
        self.zone = ZoneInfo(organization.time_zone)
        members = {r.member.pk for r in records if r.kind == UsageRecord.Kind.CALL}
        self.subscriptions: dict[int, list[Subscription]] = defaultdict(list)
        for subscription in (
            Subscription.objects.for_org(organization)
            .filter(
                Q(plan__minutes__gt=0) | Q(plan__minutes__isnull=True),
                member_id__in=members,
                status__in=Subscription.USABLE,
                plan__kind=Plan.Kind.CALLING,
            )
            .select_related("plan")
            .order_by("pk")
        ):
            self.subscriptions[subscription.member_id].append(subscription)
        months = {self.month(r.started_at) for r in records}
        self.used: dict[tuple[int, datetime.date], int] = {
            (row.subscription_id, row.month): row.used_seconds
            for row in IncludedMinutes.objects.for_org(organization).filter(
                subscription__in=[s for subs in self.subscriptions.values() for s in subs],
                month__in=months,
            )
        }
        self.taken: dict[tuple[int, datetime.date], int] = defaultdict(int)

    def month(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self.zone).date().replace(day=1)

    def best(self, member_id: int, rate: Rate, moment) -> tuple[Subscription | None, int]:
        month = self.month(moment)
        best, best_left = None, 0
        for subscription in self.subscriptions.get(member_id, ()):
            plan = subscription.plan
            if rate.country not in plan.destinations:
                continue
            if plan.landlines_only and rate.line_type != Rate.LineType.LANDLINE:
                continue
            key = (subscription.pk, month)
            left = included_seconds_of(plan) - self.used.get(key, 0) - self.taken[key]
            if left > best_left:
                best, best_left = subscription, left
        return best, best_left

    def take(self, subscription: Subscription, moment, seconds: int) -> None:
        self.taken[(subscription.pk, self.month(moment))] += seconds

    def save(self) -> None:
        rows = [(key, seconds) for key, seconds in sorted(self.taken.items()) if seconds]
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO usage_includedminutes (organization_id, subscription_id, month,
                                                   used_seconds)
                SELECT %s, * FROM unnest(%s::bigint[], %s::date[], %s::int[])
                ON CONFLICT (subscription_id, month) DO UPDATE
                SET used_seconds = usage_includedminutes.used_seconds + excluded.used_seconds
                """,
                [
                    self.organization.pk,
                    [key[0] for key, _ in rows],
                    [key[1] for key, _ in rows],
                    [seconds for _, seconds in rows],
                ],
            )


def _price(organization: Organization, item: _Priced, included: _IncludedLeft) -> None:
    record, currency = item.data, organization.currency
    if record.cost is not None:
        item.cost = Decimal(record.cost).quantize(PLACES)
        item.billed = record.seconds
        return
    if record.direction == UsageRecord.Direction.INBOUND:
        # Calls and messages received cost nothing (the number's subscription pays for them),
        # unless their source prices them.
        item.billed = record.seconds
        return
    terms = terms_of(item.rate)
    if record.kind == UsageRecord.Kind.SMS:
        item.cost = sms_cost(terms=terms, currency=currency, units=record.units)
        return
    subscription, left = included.best(record.member.pk, item.rate, record.started_at)
    price = call_cost(
        terms=terms, currency=currency, seconds=record.seconds, included_available=left
    )
    item.billed, item.cost = price.billed_seconds, price.cost
    if price.included_seconds and subscription is not None:
        item.included, item.subscription = price.included_seconds, subscription
        included.take(subscription, record.started_at, price.included_seconds)


def _split(item: _Priced, balances: dict, wallet: int, company: int, receivable: int) -> None:
    """Who pays the cost: the member's wallet down to zero, then the company balance, then
    what is owed (the receivable may go below zero)."""
    rest = item.cost
    from_member = min(rest, max(balances[wallet], Decimal(0)))
    rest -= from_member
    from_company = min(rest, max(balances[company], Decimal(0)))
    rest -= from_company
    balances[wallet] -= from_member
    balances[company] -= from_company
    balances[receivable] -= rest
    item.parts = {"member": from_member, "company": from_company, "owed": rest}


def _record(organization: Organization, item: _Priced) -> UsageRecord:
    data = item.data
    return UsageRecord(
        organization=organization,
        member=data.member,
        kind=data.kind,
        direction=data.direction,
        destination="+" + item.digits,
        country=item.country,
        started_at=data.started_at,
        seconds=data.seconds if data.kind == UsageRecord.Kind.CALL else 0,
        units=data.units if data.kind == UsageRecord.Kind.SMS else 0,
        billed_seconds=item.billed,
        included_seconds=item.included,
        subscription=item.subscription,
        rate=(
            None
            if item.rate is None or data.cost is not None
            else (item.rate.per_minute if data.kind == UsageRecord.Kind.CALL else item.rate.per_sms)
        ),
        rate_prefix=item.rate.prefix if item.rate is not None else "",
        cost=item.cost,
        currency=organization.currency,
        from_member=item.parts["member"],
        from_company=item.parts["company"],
        owed=item.parts["owed"],
        provider_cost=data.cost,
        source=data.source,
        external_id=data.external_id,
    )


def _memo(record: UsageRecord) -> str:
    return f"{record.get_kind_display()} {record.destination}"


def _movements(organization, item, record, wallet, company, receivable, usage) -> list[Movement]:
    key = usage_key(record.source, record.external_id)
    money = lambda amount: Money(amount, organization.currency)  # noqa: E731
    kind, memo = Transfer.Kind.USAGE, _memo(record)
    movements = []
    for source, amount, suffix in (
        (wallet, item.parts["member"], ""),
        (company, item.parts["company"], ":company"),
        (receivable, item.parts["owed"], ":owed"),
    ):
        if amount > 0:
            movements.append(Movement(source, usage, money(amount), kind, key + suffix, memo))
    return movements


def _rollup(organization: Organization, record: UsageRecord, amount=None) -> rollups.RollupEntry:
    call = record.kind == UsageRecord.Kind.CALL
    return rollups.RollupEntry(
        member_id=record.member_id,
        day=rollups.rollup_day(organization, record.started_at),
        category=rollups.call_category(record.country) if call else rollups.SMS,
        amount=record.cost if amount is None else amount,
        quantity=(record.seconds if call else record.units) if amount is None else 0,
        records=1 if amount is None else 0,
    )


def usage_record_reprice(
    *, organization: Organization, source: str, external_id: str, provider_cost
) -> UsageRecord | None:
    """The provider's own price of a record, arriving after it was recorded: store it once, and
    when the record was priced from the rate table with no included minutes and the price
    differs, post one adjustment for the difference (a further debit like the usage's, or a
    refund to where the usage was paid from: owed first, then the company, then the member).
    A second price changes nothing. Locks the accounts (ledger order), then the record."""
    try:
        price = Decimal(provider_cost).copy_abs().quantize(PLACES)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not price.is_finite() or price > MOST_COST:
        return None
    with transaction.atomic():
        record = (
            UsageRecord.objects.for_org(organization)
            .filter(source=source, external_id=external_id)
            .select_related("member")
            .first()
        )
        if record is None:
            return None
        wallet = member_wallets(organization, [record.member])[record.member_id]
        company = system_account(organization, Account.Kind.ORGANIZATION)
        receivable = system_account(organization, Account.Kind.RECEIVABLE)
        usage = system_account(organization, Account.Kind.USAGE)
        locked = accounts_lock(organization, [wallet, company, receivable, usage])
        record = UsageRecord.objects.for_org(organization).select_for_update().get(pk=record.pk)
        if record.provider_cost is not None and record.source == UsageRecord.Source.TWILIO:
            return record
        if record.adjustment or (
            record.provider_cost is not None and record.provider_cost == price
        ):
            return record
        record.provider_cost = price
        difference = price - record.cost
        if record.included_seconds or not difference:
            record.save(update_fields=["provider_cost"])
            return record
        key = usage_key(record.source, record.external_id) + ":adjust"
        money = lambda amount: Money(amount, organization.currency)  # noqa: E731
        kind, memo = Transfer.Kind.ADJUSTMENT, _memo(record)
        wallet, company = locked[wallet.pk], locked[company.pk]
        receivable, usage = locked[receivable.pk], locked[usage.pk]
        movements = []
        if difference > 0:
            item = _Priced(0, None, "", "", None, cost=difference)  # type: ignore[arg-type]
            balances = {pk: account.balance.amount for pk, account in locked.items()}
            _split(item, balances, wallet.pk, company.pk, receivable.pk)
            for source, amount, suffix in (
                (wallet, item.parts["member"], ""),
                (company, item.parts["company"], ":company"),
                (receivable, item.parts["owed"], ":owed"),
            ):
                if amount > 0:
                    movements.append(
                        Movement(source, usage, money(amount), kind, key + suffix, memo)
                    )
        else:
            rest = -difference
            for destination, paid, suffix in (
                (receivable, record.owed, ":owed"),
                (company, record.from_company, ":company"),
                (wallet, record.from_member, ""),
            ):
                amount = min(rest, paid)
                if amount > 0:
                    movements.append(
                        Movement(usage, destination, money(amount), kind, key + suffix, memo)
                    )
                    rest -= amount
        transfers_post(organization=organization, actor=None, movements=movements)
        rollups.rollups_add(organization, [_rollup(organization, record, amount=difference)])
        record.adjustment = difference
        record.save(update_fields=["provider_cost", "adjustment"])
    return record
