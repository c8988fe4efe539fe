"""Tasks of the exports made in the background; each takes the organization's id and the
export's, and calls one service of dashboard.services.exports.

- `export_run(organization_id, export_id)`: write the file (sent after the request commits).
  Idempotent: a second delivery finds the export finished, or in the hands of a live run.
  A failure for good (an error, the time limit) marks the export failed.
- `export_jobs_stuck()` (beat, every 5 minutes): exports whose task was lost, sent again.
- `export_jobs_expire()` (beat, daily): files past their week deleted.
"""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from dashboard.services import exports as services
from organizations.models import Organization
from organizations.scoping import tenant_scope

__all__ = ["export_jobs_expire", "export_jobs_stuck", "export_run"]

# A year of a large company's records takes minutes; below the broker's visibility timeout
# (an hour), after which Redis would hand the task to another worker.
TIME_LIMIT = 30 * 60


def _organization(organization_id: int) -> Organization | None:
    return Organization.objects.filter(pk=organization_id).first()


class ExportRunTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        organization_id = args[0] if args else kwargs.get("organization_id")
        export_id = args[1] if len(args) > 1 else kwargs.get("export_id")
        organization = _organization(organization_id)
        if organization is None:
            return
        with tenant_scope(organization):
            services.export_job_fail(
                organization=organization,
                job_id=export_id,
                reason=f"{type(exc).__name__}: {exc}",
            )


@shared_task(
    name="dashboard.export_run",
    base=ExportRunTask,
    acks_late=True,
    time_limit=TIME_LIMIT,
    soft_time_limit=TIME_LIMIT - 60,
)
def export_run(organization_id: int, export_id: int) -> str | None:
    organization = _organization(organization_id)
    if organization is None:
        return None
    with tenant_scope(organization):
        job = services.export_job_run(organization=organization, job_id=export_id)
    return job.status if job is not None else None


@shared_task(name="dashboard.export_jobs_stuck")
def export_jobs_stuck() -> int:
    stuck = services.export_jobs_stuck()
    for organization_id, export_id in stuck:
        export_run.delay(organization_id, export_id)
    return len(stuck)


@shared_task(name="dashboard.export_jobs_expire")
def export_jobs_expire() -> int:
    return services.export_jobs_expire()
