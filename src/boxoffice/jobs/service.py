"""Use cases of jobs: start one, report progress, finish it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from boxoffice.errors import NotFound
from boxoffice.jobs.models import Job
from boxoffice.kit.clock import now


def create_job(
    session: Session,
    kind: str,
    *,
    created_by: str,
    params: dict[str, Any] | None = None,
    organizer_id: int | None = None,
    event_id: int | None = None,
    total: int | None = None,
) -> Job:
    job = Job(
        kind=kind,
        created_by=created_by,
        params=params or {},
        organizer_id=organizer_id,
        event_id=event_id,
        total=total,
        state="queued",
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.", parameter="id")
    return job


def report_progress(
    session: Session, job_id: int, *, progress: int, total: int | None = None, result: dict[str, Any] | None = None
) -> None:
    job = get_job(session, job_id)
    job.state = "running"
    job.progress = progress
    if total is not None:
        job.total = total
    if result is not None:
        job.result = result


def finish_job(session: Session, job_id: int, *, result: dict[str, Any], error: str | None = None) -> Job:
    job = get_job(session, job_id)
    job.state = "failed" if error else "done"
    job.result = result
    job.error = error
    job.finished_at = now()
    if job.total is not None and not error:
        job.progress = job.total
    return job
