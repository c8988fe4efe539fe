"""The call-record API, version 1: /api/v1/usage (post a batch, read a page), /api/v1/usage/<id>,
its OpenAPI 3 schema (/api/v1/openapi.json) and its docs (/api/v1/docs, Swagger UI served from
our own static files: "ninja" is an installed app, so no CDN).

- Authentication: `Authorization: Bearer <key>` or `X-API-Key: <key>`, an organization's API
  key (usage.services.api_keys). A missing, unknown or revoked key answers 401.
- Rate limit: API_RATE_LIMIT requests a minute per key (a counter in Redis, through the
  cache); more answer 429 with Retry-After.
- A key sees and writes only its own organization's records: every query starts from the
  key's organization, inside its tenant scope.
- Every request made with a valid key leaves one audit event (api_key_use_record), with the
  numbers of records; requests refused by the rate limit do not (writing a row for each would
  let a runaway client fill the audit trail).
- Errors are JSON, {"message", "code", "errors"}; responses are never stored by caches.
"""

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import register_converter
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Path, Query
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import APIKeyHeader, HttpBearer
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

from organizations.scoping import tenant_scope
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from usage.api.schemas import (
    EXTERNAL_ID_LENGTH,
    BatchOut,
    ErrorOut,
    SourceFilter,
    UsageBatchIn,
    UsageFilters,
    UsagePageOut,
    UsageRecordIn,
    UsageRecordOut,
)
from usage.models import ApiKey, UsageRecord
from usage.selectors.api_records import usage_record_by_external_id, usage_records_page
from usage.services.api_keys import api_key_authenticate, api_key_use_record
from usage.services.api_records import api_usage_records_post

logger = logging.getLogger(__name__)

RATE_WINDOW = 60


class ExternalIdConverter:
    """An external id in a URL: anything, "/" and line breaks included (Django's `path`
    converter stops at a line break)."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExternalIdConverter, "external_id")


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_authenticate(token)


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return api_key_authenticate(key or "")


class KeyRateThrottle(BaseThrottle):
    """API_RATE_LIMIT requests per key per minute (fixed windows of the clock's minutes),
    counted atomically in Redis: an INCR per request, the counter expiring with its window."""

    def allow_request(self, request: HttpRequest) -> bool:
        key = getattr(request, "auth", None)
        if not isinstance(key, ApiKey):
            return True
        window = int(time.time() // RATE_WINDOW)
        counter = f"api-rate:{key.pk}:{window}"
        try:
            cache.add(counter, 0, timeout=RATE_WINDOW * 2)
            try:
                count = cache.incr(counter)
            except ValueError:
                # The counter expired between add and incr: this request starts it again.
                cache.set(counter, 1, timeout=RATE_WINDOW * 2)
                count = 1
        except RedisError:
            # Without Redis the limit cannot be counted: the records still get in (the
            # database is what matters), and the outage is in the log.
            logger.warning("API rate limit not counted: Redis is unreachable", exc_info=True)
            return True
        return count <= settings.API_RATE_LIMIT

    def wait(self) -> float:
        return RATE_WINDOW - time.time() % RATE_WINDOW


class Api(NinjaAPI):
    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        # Call records and their costs: no proxy or browser keeps a copy.
        response["Cache-Control"] = "private, no-store"
        return response

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """The published schema shows each record of a batch as UsageRecordIn: the request
        model takes records loosely, to answer each bad record on its own."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        record = UsageRecordIn.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(record.pop("$defs", {}))
        components["UsageRecordIn"] = record
        batch = components.get("UsageBatchIn", {}).get("properties", {}).get("records")
        if batch is not None:
            batch["items"] = {"$ref": "#/components/schemas/UsageRecordIn"}
        return schema


api = Api(
    title="SkypeMgr call-record API",
    version="1",
    description=(
        "Send the calls and messages of your phone system (PBX) or provider, and read your "
        "organization's usage. Authenticate with an API key from Settings → API keys, in the "
        "`Authorization: Bearer <key>` header (or `X-API-Key: <key>`). Each key may make "
        "a limited number of requests a minute; more are answered 429 with Retry-After."
    ),
    urls_namespace="api-v1",
    auth=[BearerKey(), HeaderKey()],
    throttle=[KeyRateThrottle()],
)

ERRORS = {400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- Errors -----------------------------------------------------------------------------------


def _error(request, status: int, message: str, code: str, errors=None) -> HttpResponse:
    return api.create_response(
        request, {"message": message, "code": code, "errors": errors or []}, status=status
    )


def _audit(request, status: int, counts: dict[str, int] | None = None) -> None:
    key = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):
        return
    match = getattr(request, "resolver_match", None)
    if getattr(match, "url_name", "") == "usage_get":
        operation = "usage.get"
    else:
        # GET and POST /usage share one URL (and its name).
        operation = "usage.post" if request.method == "POST" else "usage.list"
    api_key_use_record(
        key=key,
        operation=operation,
        status=status,
        counts=counts,
        ip_address=client_ip(request),
    )


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    if request.headers.get("Authorization") or request.headers.get("X-API-Key"):
        message = _("This API key is not valid: it is unknown, mistyped or revoked.")
    else:
        message = _("Send your API key in the header Authorization: Bearer <key>.")
    response = _error(request, 401, message, "unauthorized")
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(Throttled)
def _throttled(request, exc):
    seconds = math.ceil(exc.wait or RATE_WINDOW)
    return _error(
        request,
        429,
        _(
            "Too many requests: a key may make %(limit)d requests a minute. "
            "Try again in %(seconds)d seconds."
        )
        % {"limit": settings.API_RATE_LIMIT, "seconds": seconds},
        "rate_limited",
    )


def _where(location) -> str:
    parts = [str(part) for part in location]
    # ninja's own prefix ("body", the parameter's name) says nothing to the caller.
    while parts and parts[0] in ("body", "query", "path", "payload", "filters"):
        parts.pop(0)
    return ".".join(parts)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    errors = []
    for problem in exc.errors[:20]:
        message = str(problem.get("msg", "")).removeprefix("Value error, ")
        errors.append({"field": _where(problem.get("loc", ())), "message": message})
    first = errors[0] if errors else {"field": "", "message": ""}
    message = (
        f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    ) or _("The request is not valid.")
    _audit(request, 422)
    return _error(request, 422, message, "invalid", errors)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code == 400:
        message = _("The body must be JSON: an object with a list of records.")
    else:
        message = str(exc)
    _audit(request, exc.status_code)
    return _error(request, exc.status_code, message, "bad_request")


@api.exception_handler(ApplicationError)
def _refused(request, exc):
    _audit(request, 400)
    return _error(request, 400, exc.message, exc.code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    _audit(request, 404, {"returned": 0})
    return _error(request, 404, _("Not found."), "not_found")


# --- Endpoints --------------------------------------------------------------------------------


def _record_out(record: UsageRecord) -> dict[str, Any]:
    return {
        "external_id": record.external_id,
        "source": record.source,
        "member": {"id": record.member_id, "name": str(record.member)},
        "kind": record.kind,
        "direction": record.direction,
        "destination": record.destination,
        "country": record.country,
        "started_at": record.started_at,
        "seconds": record.seconds,
        "units": record.units,
        "billed_seconds": record.billed_seconds,
        "included_seconds": record.included_seconds,
        "cost": f"{record.cost:f}",
        "currency": record.currency,
        "provider_cost": None if record.provider_cost is None else f"{record.provider_cost:f}",
        "created_at": record.created_at,
    }


@api.post(
    "/usage",
    response={200: BatchOut, **ERRORS},
    summary="Send call and message records",
    description=(
        "1 to 1,000 records. Each is answered on its own, in order: created, duplicate (its "
        "external id is already recorded, or came earlier in the batch) or rejected (with "
        "the reason). Sending a record again changes nothing."
    ),
    url_name="usage_post",
)
def usage_post(request, batch: UsageBatchIn):
    key: ApiKey = request.auth
    with tenant_scope(key.organization):
        outcomes = api_usage_records_post(organization=key.organization, records=batch.records)
    counts = {status: 0 for status in ("created", "duplicate", "rejected")}
    for outcome in outcomes:
        counts[outcome.status] += 1
    _audit(request, 200, {"sent": len(outcomes), **counts})
    return {
        "records": [
            {"external_id": item.external_id, "status": item.status, "reason": item.reason}
            for item in outcomes
        ],
        **counts,
    }


@api.get(
    "/usage",
    response={200: UsagePageOut, **ERRORS},
    summary="Read the organization's usage records",
    description="Newest first, a page at a time: pass next_cursor as cursor for the next page.",
    url_name="usage_list",
)
def usage_list(request, filters: Query[UsageFilters]):
    key: ApiKey = request.auth
    with tenant_scope(key.organization):
        records, next_cursor = usage_records_page(
            organization=key.organization,
            member_id=filters.member,
            kind=filters.kind,
            since=filters.since,
            until=filters.until,
            cursor=filters.cursor,
            limit=filters.limit,
        )
    _audit(request, 200, {"returned": len(records)})
    return {"records": [_record_out(record) for record in records], "next_cursor": next_cursor}


@api.get(
    "/usage/{external_id:external_id}",
    response={200: UsageRecordOut, 404: ErrorOut, **ERRORS},
    summary="Read one record by its external id",
    url_name="usage_get",
)
def usage_get(request, external_id: Path[str], source: Query[SourceFilter]):
    key: ApiKey = request.auth
    if len(external_id) > EXTERNAL_ID_LENGTH or "\x00" in external_id:
        raise Http404
    with tenant_scope(key.organization):
        record = usage_record_by_external_id(
            organization=key.organization, external_id=external_id, source=source.source
        )
    if record is None:
        raise Http404
    _audit(request, 200, {"returned": 1})
    return _record_out(record)
