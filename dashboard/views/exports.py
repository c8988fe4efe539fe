"""Exports made in the background: ask for one (call and message records of a month or a
year), follow it, download it. Also the form that downloads a report as a file at once."""

from django.contrib import messages
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.forms import ExportRequestForm, ReportDownloadForm
from dashboard.models import ExportJob
from dashboard.selectors.exports import (
    export_file_chunks,
    export_job_downloadable,
    export_job_of,
    export_jobs_recent,
)
from dashboard.selectors.filters import report_filters_text
from dashboard.services.exports import (
    KEEP_FOR,
    export_job_filters,
    export_job_period,
    export_job_request,
)
from organizations.scoping import tenant_scope
from skypemgr.errors import ApplicationError
from skypemgr.exports import FORMATS
from skypemgr.forms import form_error


def _described(request, jobs: list[ExportJob]) -> list[ExportJob]:
    """Each export with what it covers in words and whether the visitor may download it."""
    for job in jobs:
        job.period_label = export_job_period(job).label
        job.filters_text = report_filters_text(
            organization=request.org, filters=export_job_filters(job)
        )
        job.downloadable = export_job_downloadable(
            organization=request.org, viewer=request.member, job=job
        )
    return jobs


@require_http_methods(["GET", "POST"])
def export_list(request):
    """GET: download a report at once, ask for call records in the background, and the
    organization's latest exports. POST: ask for an export, then follow it on its page."""
    organization = request.org
    form = ExportRequestForm(
        request.POST if request.method == "POST" else None, organization=organization
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = export_job_request(
                organization=organization,
                actor=request.member,
                period=form.period(),
                filters=form.filters(),
                email_when_ready=data["email_when_ready"],
                language=translation.get_language(),
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Your export has started."))
            return redirect("dashboard:export-detail", org_slug=organization.slug, export_id=job.pk)
    return render(
        request,
        "dashboard/export_list.html",
        {
            "form": form,
            "download_form": ReportDownloadForm(organization=organization),
            "exports": _described(request, export_jobs_recent(organization=organization)),
            "keep_days": KEEP_FOR.days,
        },
    )


@require_GET
def export_detail(request, export_id: int):
    """One export: its progress while it runs (htmx asks for the `status` part every 2
    seconds; without JavaScript the page reloads itself), its link once ready."""
    job = export_job_of(organization=request.org, viewer=request.member, job_id=export_id)
    if job is None:
        raise Http404
    [job] = _described(request, [job])
    context = {"job": job, "keep_days": KEEP_FOR.days}
    if request.htmx:
        return render(request, "dashboard/export_detail.html#status", context)
    return render(request, "dashboard/export_detail.html", context)


@require_GET
def export_file(request, export_id: int):
    """The export's file, streamed a piece at a time. Only the member who asked for it and
    the organization's finance members, admins and owners (see export_job_downloadable)."""
    organization = request.org
    job = export_job_of(organization=organization, viewer=request.member, job_id=export_id)
    if job is None or job.status != ExportJob.Status.DONE:
        raise Http404

    def pieces():
        # Read after the view has returned: each query in the organization's scope.
        chunks = export_file_chunks(organization=organization, job=job)
        while True:
            with tenant_scope(organization):
                piece = next(chunks, None)
            if piece is None:
                return
            yield piece

    response = StreamingHttpResponse(pieces(), content_type=FORMATS["csv"])
    response["Content-Disposition"] = content_disposition_header(True, job.file_name)
    response["Content-Length"] = str(job.file_size)
    response["Cache-Control"] = "private, no-store"
    return response
