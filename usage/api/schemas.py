"""What the call-record API reads and answers (pydantic models, through django-ninja).

A batch is read in two steps: the request's shape (an object with 1 to 1,000 records) by
`UsageBatchIn`, which fails the request (422) when it does not hold; then each record on its
own by `UsageRecordIn` (usage.services.api_records), so that one bad record is rejected with its
reason and the others go on. The schema published for a batch shows the records' own model.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from usage.selectors.api_records import EARLIEST, LATEST, MOST_ID

MOST_RECORDS = 1000
EXTERNAL_ID_LENGTH = 100

# One line of text: no control characters (a NUL could not even be searched for).
ONE_LINE = r"^[^\x00-\x1f\x7f]+$"
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=ONE_LINE)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=254, pattern=ONE_LINE)]


def _within_dates(value: datetime.datetime | None) -> datetime.datetime | None:
    """A date of this century, in UTC (PostgreSQL refuses offsets past ±15:59, which ISO 8601
    allows)."""
    if value is None:
        return None
    if not EARLIEST <= value < LATEST:
        raise ValueError(_("The date must be between the years 2000 and 2099."))
    return value.astimezone(datetime.UTC)


Moment = Annotated[AwareDatetime, Field(description="ISO 8601 with a UTC offset.")]


class MemberIn(Schema):
    """Who made the call or sent the message: one of id, email, username or phone (an active
    member of the key's organization)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    id: int | None = Field(None, ge=1, le=MOST_ID)
    email: Text | None = None
    username: Text | None = None
    phone: (
        Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=ONE_LINE)] | None
    ) = Field(None, description="E.164 (+33612345678), or national for the organization's country.")

    @model_validator(mode="after")
    def _one_identity(self):
        given = [name for name in ("id", "email", "username", "phone") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(_("Name the member by exactly one of id, email, username or phone."))
        return self

    def identity(self) -> tuple[str, Any]:
        for name in ("id", "email", "username", "phone"):
            value = getattr(self, name)
            if value:
                return name, value
        raise ValueError(name)  # unreachable: the validator requires one


class UsageRecordIn(Schema):
    """One call or message, as the source saw it."""

    external_id: ExternalId = Field(
        description="The source's own id of the call or message; a second record with the "
        "same id is a duplicate and changes nothing."
    )
    member: MemberIn
    kind: Literal["call", "sms"]
    destination: Annotated[
        str, StringConstraints(min_length=1, max_length=32, pattern=ONE_LINE)
    ] = Field(
        description="The number called or texted (E.164, or national for the organization's "
        "country)."
    )
    started_at: Moment
    seconds: int | None = Field(
        None, ge=0, le=86_400, description="Calls: the duration in seconds (required)."
    )
    units: int | None = Field(
        None, ge=1, le=100, description="Messages: the number of parts (1 when not given)."
    )
    direction: Literal["outbound", "inbound"] = "outbound"
    cost: Annotated[str, StringConstraints(pattern=r"^\d{1,6}(\.\d{1,4})?$")] | None = Field(
        None,
        description="The source's own price, in the organization's currency, as a decimal "
        'string ("0.1250"); without it the rate table prices the record.',
    )

    _started = field_validator("started_at")(_within_dates)

    @model_validator(mode="after")
    def _kind_fields(self):
        if self.kind == "call":
            if self.seconds is None:
                raise ValueError(_("A call needs its duration in seconds."))
            if self.units is not None:
                raise ValueError(_("A call has seconds, not units."))
        elif self.seconds is not None:
            raise ValueError(_("A message has units, not seconds."))
        return self

    def cost_amount(self) -> Decimal | None:
        return Decimal(self.cost) if self.cost is not None else None


class UsageBatchIn(Schema):
    records: list[Any] = Field(
        description="1 to 1,000 records (UsageRecordIn); each is answered on its own.",
        json_schema_extra={"minItems": 1, "maxItems": MOST_RECORDS},
    )

    @field_validator("records", mode="before")
    @classmethod
    def _count(cls, value):
        if isinstance(value, list) and not 1 <= len(value) <= MOST_RECORDS:
            raise ValueError(
                _("Send from 1 to %(most)d records in a batch; this one has %(count)d.")
                % {"most": MOST_RECORDS, "count": len(value)}
            )
        return value


class OutcomeOut(Schema):
    external_id: str | None = Field(description="As sent; null when the record had none.")
    status: Literal["created", "duplicate", "rejected"]
    reason: str = Field(description="Why a record was rejected or is a duplicate; else empty.")


class BatchOut(Schema):
    records: list[OutcomeOut] = Field(description="One outcome per record sent, in order.")
    created: int
    duplicate: int
    rejected: int


class MemberOut(Schema):
    id: int
    name: str


class UsageRecordOut(Schema):
    external_id: str
    source: Literal["api", "twilio"]
    member: MemberOut
    kind: Literal["call", "sms"]
    direction: Literal["outbound", "inbound"]
    destination: str
    country: str
    started_at: datetime.datetime
    seconds: int
    units: int
    billed_seconds: int
    included_seconds: int = Field(description="Seconds taken from a calling subscription.")
    cost: str = Field(description="What was debited, as a decimal string.")
    currency: str
    provider_cost: str | None = Field(description="The source's own price, when it sent one.")
    created_at: datetime.datetime


class UsagePageOut(Schema):
    records: list[UsageRecordOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass it as `cursor` to get the next page; null on the last page."
    )


class UsageFilters(Schema):
    member: int | None = Field(None, ge=1, le=MOST_ID, description="A member's id.")
    kind: Literal["call", "sms"] | None = None
    since: Moment | None = Field(None, description="Started at or after (ISO 8601 with offset).")
    until: Moment | None = Field(None, description="Started before (ISO 8601 with offset).")
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None
    limit: int = Field(100, ge=1, le=500)

    _dates = field_validator("since", "until")(_within_dates)


class SourceFilter(Schema):
    source: Literal["api", "twilio"] = Field(
        "api", description="Where the record came from: this API, or Twilio's calls."
    )


class ErrorDetail(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    message: str
    code: str
    errors: list[ErrorDetail] = Field(default_factory=list)
