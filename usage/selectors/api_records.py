"""Reads of usage records for the call-record API: one organization's records, newest first,
a page at a time (keyset pagination: a cursor names the last record of a page), and one
record by its external id."""

import base64
import binascii
import datetime
import json

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from organizations.models import Organization
from skypemgr.errors import ApplicationError
from usage.models import UsageRecord

# The range of dates and ids the API takes (usage.api.schemas keeps its inputs within them).
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
MOST_ID = 2**63 - 1


def _cursor_of(record: UsageRecord) -> str:
    raw = json.dumps([record.started_at.isoformat(), record.pk]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _position(cursor: str) -> tuple[datetime.datetime, int]:
    """The (started_at, id) a cursor names; ApplicationError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started, pk = json.loads(raw)
        moment = parse_datetime(started)
        if moment is None or moment.tzinfo is None or not isinstance(pk, int):
            raise ValueError(cursor)
        if not (1 <= pk <= MOST_ID and EARLIEST <= moment < LATEST):
            raise ValueError(cursor)
        return moment.astimezone(datetime.UTC), pk
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        raise ApplicationError(
            _("This cursor is not valid: pass the next_cursor of the previous page as it is."),
            code="invalid_cursor",
            field="cursor",
        ) from None


def usage_records_page(
    *,
    organization: Organization,
    member_id: int | None = None,
    kind: str | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[UsageRecord], str | None]:
    """A page of the organization's records (newest first, each with its member), and the
    cursor of the next page (None on the last one). Filters: the member, the kind, the start
    (since inclusive, until exclusive)."""
    records = (
        UsageRecord.objects.for_org(organization)
        .select_related("member")
        .order_by("-started_at", "-id")
    )
    if member_id is not None:
        records = records.filter(member_id=member_id)
    if kind:
        records = records.filter(kind=kind)
    if since is not None:
        records = records.filter(started_at__gte=since)
    if until is not None:
        records = records.filter(started_at__lt=until)
    if cursor:
        started, pk = _position(cursor)
        records = records.filter(Q(started_at__lt=started) | Q(started_at=started, id__lt=pk))
    page = list(records[: limit + 1])
    if len(page) > limit:
        page = page[:limit]
        return page, _cursor_of(page[-1])
    return page, None


def usage_record_by_external_id(
    *, organization: Organization, external_id: str, source: str = UsageRecord.Source.API
) -> UsageRecord | None:
    return (
        UsageRecord.objects.for_org(organization)
        .select_related("member")
        .filter(source=source, external_id=external_id)
        .first()
    )
