"""Reads of the exports made in the background: the records an export holds (in keyset
batches), the organization's recent exports, who may download one, and a file's pieces.

Always given the organization; never writes.
"""

from collections.abc import Iterator

from django.db.models import Q, QuerySet

from dashboard.models import ExportChunk, ExportJob
from dashboard.periods import Period
from dashboard.reports import ReportFilters
from dashboard.selectors.filters import CALLS, members_filtered
from organizations.models import Member, Organization
from organizations.roles import Role
from usage.models import UsageRecord
from usage.selectors.usage import CALL_PREFIX, destinations_masked

RECENT_EXPORTS = 20
# Pieces of a file read by one query while it downloads.
CHUNKS_PER_QUERY = 4


def usage_records_export(
    *, organization: Organization, period: Period, filters: ReportFilters
) -> QuerySet[UsageRecord]:
    """The calls and messages of `period` (the organization's time zone) that `filters`
    keeps, with their members. Categories other than calls and messages keep none."""
    start, end = period.bounds(organization)
    records = UsageRecord.objects.for_org(organization).filter(
        members_filtered(organization=organization, filters=filters),
        started_at__gte=start,
        started_at__lt=end,
    )
    category = filters.category
    if category == CALLS:
        records = records.filter(kind=UsageRecord.Kind.CALL)
    elif category.startswith(CALL_PREFIX):
        country = category[len(CALL_PREFIX) :]
        # Records of no known country are rolled up as "call:ZZ" (credit.services.rollups).
        where = Q(country__iexact=country) | (Q(country="") if country == "ZZ" else Q())
        records = records.filter(where, kind=UsageRecord.Kind.CALL)
    elif category == UsageRecord.Kind.SMS:
        records = records.filter(kind=UsageRecord.Kind.SMS)
    elif category:
        records = records.none()
    return records.select_related("member")


def usage_record_batches(records: QuerySet[UsageRecord], *, size: int) -> Iterator[list]:
    """`records` oldest first, `size` at a time, each batch one query that starts after the
    last record of the one before (keyset, along the (organization, started_at, id) index):
    the first batch and the thousandth cost the same, and none holds more than `size`."""
    ordered = records.order_by("started_at", "id")
    last = None
    while True:
        window = ordered
        if last is not None:
            window = ordered.filter(
                Q(started_at__gt=last.started_at) | Q(started_at=last.started_at, id__gt=last.id)
            )
        batch = list(window[:size])
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        last = batch[-1]


def export_jobs_recent(*, organization: Organization, limit: int = RECENT_EXPORTS) -> list:
    """The organization's latest exports, newest first, with who asked for them."""
    return list(
        ExportJob.objects.for_org(organization)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )


def export_job_downloadable(*, organization: Organization, viewer: Member, job: ExportJob) -> bool:
    """Whether `viewer` may download `job`'s file: the member who asked for it, or any
    finance member, admin or owner, but never whole numbers to a reader who sees them hidden
    (an admin where the organization masks destinations, for an owner's export)."""
    if job.requested_by_id != viewer.pk and not Role(viewer.role).at_least(Role.FINANCE):
        return False
    if job.masked or job.requested_by_id == viewer.pk:
        return True
    return not destinations_masked(organization=organization, viewer=viewer)


def export_job_of(*, organization: Organization, viewer: Member, job_id: int) -> ExportJob | None:
    """The organization's export `job_id` if `viewer` may see it, else None (another
    organization's id included)."""
    job = (
        ExportJob.objects.for_org(organization)
        .select_related("requested_by")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        return None
    if not export_job_downloadable(organization=organization, viewer=viewer, job=job):
        return None
    return job


def export_file_chunks(*, organization: Organization, job: ExportJob) -> Iterator[bytes]:
    """The pieces of the export's file, in order, a few per query: the file never sits whole
    in memory."""
    index = 0
    while True:
        pieces = list(
            ExportChunk.objects.for_org(organization)
            .filter(job=job, index__gte=index)
            .order_by("index")
            .values_list("index", "data")[:CHUNKS_PER_QUERY]
        )
        if not pieces:
            return
        for position, data in pieces:
            yield bytes(data)
            index = position + 1
