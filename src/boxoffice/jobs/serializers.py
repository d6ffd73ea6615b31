"""JSON:API resource object of a job (``GET /v1/jobs/{id}``)."""

from __future__ import annotations

from boxoffice.jobs.models import Job
from boxoffice.kit.jsonapi import ResourceObject, rel_to_one, resource_object

JOB_FIELDS = frozenset(
    {"kind", "state", "progress", "total", "result", "error", "created-at", "updated-at", "finished-at", "event"}
)


def job_resource(job: Job, fields: frozenset[str] | None = None) -> ResourceObject:
    """A job with its progress (``progress`` of ``total`` items) and, once finished, its ``result``."""
    return resource_object(
        "jobs",
        job.id,
        {
            "kind": job.kind,
            "state": job.state,
            "progress": job.progress,
            "total": job.total,
            "result": job.result,
            "error": job.error,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
            "finished_at": job.finished_at,
        },
        {"event": rel_to_one("events", job.event_id, f"/v1/events/{job.event_id}" if job.event_id else None)},
        links={"self": f"/v1/jobs/{job.id}"},
        fields=fields,
    )
