"""A batch of call records posted to the call-record API: each record checked on its own, the
members resolved in bulk, then the batch recorded by `usage_records_ingest` (which prices and
debits, in one transaction, and has the last word on each record).

One record's problem rejects that record only. A record whose external id came earlier in the
same batch (in a record of the right shape) is a duplicate; one the organization already has
is a duplicate too (ingest). Members are found among the organization's active members only,
with one query per way of naming them (id, email, username, phone).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
import pydantic
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from organizations.models import Member, Organization
from usage.api.schemas import UsageRecordIn
from usage.models import UsageRecord
from usage.services.ingest import UsageInput, usage_records_ingest

# How much of a bad record's external id the answer repeats.
ECHO_LENGTH = 200
# How many of a record's problems its reason lists.
REASONS_SHOWN = 3


@dataclass
class RecordOutcome:
    external_id: str | None
    status: str  # "created", "duplicate" or "rejected"
    reason: str = ""


def _echo(raw: Any) -> str | None:
    value = raw.get("external_id") if isinstance(raw, dict) else None
    return value[:ECHO_LENGTH] if isinstance(value, str) else None


def _problems(error: pydantic.ValidationError) -> str:
    """A pydantic error as a reason a person can act on: "started_at: Input should have
    timezone info; seconds: …"."""
    parts = []
    for problem in error.errors(include_url=False, include_input=False)[:REASONS_SHOWN]:
        message = str(problem.get("msg", ""))
        message = message.removeprefix("Value error, ")
        where = ".".join(str(part) for part in problem.get("loc", ()))
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or _("This record is not valid.")


def _phone_e164(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class _Members:
    """The organization's active members named by a batch, found with one query per way of
    naming them."""

    def __init__(self, organization: Organization, records: Sequence[UsageRecordIn]):
        self.region = str(organization.country or "")
        wanted: dict[str, set] = defaultdict(set)
        for record in records:
            kind, value = record.member.identity()
            wanted[kind].add(self._key(kind, value))
        wanted = {kind: values - {""} for kind, values in wanted.items()}
        active = Member.objects.for_org(organization).filter(status=Member.Status.ACTIVE)
        self.found: dict[tuple[str, Any], list[Member]] = defaultdict(list)
        if wanted.get("id"):
            for member in active.filter(pk__in=wanted["id"]):
                self.found["id", member.pk].append(member)
        if wanted.get("email"):
            rows = active.annotate(key=Lower("email")).filter(key__in=wanted["email"])
            for member in rows:
                self.found["email", member.key].append(member)
        if wanted.get("username"):
            rows = active.annotate(key=Lower("username")).filter(key__in=wanted["username"])
            for member in rows:
                self.found["username", member.key].append(member)
        if wanted.get("phone"):
            for member in active.filter(phone__in=wanted["phone"]):
                self.found["phone", str(member.phone)].append(member)

    def _key(self, kind: str, value: Any) -> Any:
        if kind in ("email", "username"):
            return str(value).strip().lower()
        if kind == "phone":
            return _phone_e164(str(value), self.region)
        return value

    def of(self, record: UsageRecordIn) -> tuple[Member | None, str]:
        """The member a record names, or None and why not."""
        kind, value = record.member.identity()
        key = self._key(kind, value)
        if kind == "phone" and not key:
            return None, _("The member's phone number is not a valid number.")
        members = self.found.get((kind, key), [])
        if not members:
            return None, _("Unknown member.")
        if len(members) > 1:
            return None, _("Several members have this %(field)s: name the member by id.") % {
                "field": kind
            }
        return members[0], ""


def api_usage_records_post(
    *, organization: Organization, records: Sequence[Any]
) -> list[RecordOutcome]:
    """Check, resolve and record a batch posted with an API key of `organization`; one
    outcome per record, in order. Locks what `usage_records_ingest` locks (the members'
    wallets, then the company's accounts, in id order); reads before it lock nothing."""
    outcomes: list[RecordOutcome | None] = [None] * len(records)
    checked: list[tuple[int, UsageRecordIn]] = []
    seen: set[str] = set()
    for index, raw in enumerate(records):
        if not isinstance(raw, dict):
            outcomes[index] = RecordOutcome(None, "rejected", _("A record must be a JSON object."))
            continue
        try:
            record = UsageRecordIn.model_validate(raw)
        except pydantic.ValidationError as error:
            outcomes[index] = RecordOutcome(_echo(raw), "rejected", _problems(error))
            continue
        if record.external_id in seen:
            outcomes[index] = RecordOutcome(
                record.external_id, "duplicate", _("This external id came earlier in the batch.")
            )
            continue
        seen.add(record.external_id)
        checked.append((index, record))

    members = _Members(organization, [record for _, record in checked])
    inputs: list[tuple[int, UsageInput]] = []
    for index, record in checked:
        member, reason = members.of(record)
        if member is None:
            outcomes[index] = RecordOutcome(record.external_id, "rejected", reason)
            continue
        inputs.append(
            (
                index,
                UsageInput(
                    member=member,
                    kind=record.kind,
                    destination=record.destination,
                    started_at=record.started_at,
                    seconds=record.seconds or 0,
                    units=(record.units or 1) if record.kind == UsageRecord.Kind.SMS else 0,
                    direction=record.direction,
                    source=UsageRecord.Source.API,
                    external_id=record.external_id,
                    cost=record.cost_amount(),
                ),
            )
        )
    if inputs:
        results = usage_records_ingest(
            organization=organization, records=[item for _, item in inputs]
        )
        for (index, item), result in zip(inputs, results, strict=True):
            reason = result.reason
            if result.status == "duplicate" and not reason:
                reason = _("This external id is already recorded.")
            outcomes[index] = RecordOutcome(item.external_id, result.status, reason)
    return outcomes  # type: ignore[return-value]
