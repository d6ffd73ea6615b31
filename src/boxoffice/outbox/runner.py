"""Running jobs: claim a row, run its task, record the outcome; and the sweep that recovers lost work.

A job is claimed with one conditional ``UPDATE … WHERE state = 'queued'``, so of several workers
handed the same job (a re-sent message, two sweeps) exactly one runs it, and a job that is done is
never run again. The claim holds a lease; a worker that dies mid-job leaves the row ``running``
until the lease passes, and the sweep then queues it again for another worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update

from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.outbox import dispatch
from boxoffice.outbox.models import OutboxJob
from boxoffice.outbox.rules import retry_delay
from boxoffice.outbox.tasks import DEFAULT_LEASE, get_task

log = logging.getLogger(__name__)

# A queued job handed to the broker this long ago and still not claimed is handed over again.
RESEND_AFTER = timedelta(seconds=60)
SWEEP_BATCH = 500


def worker_name() -> str:
    """Who holds a claim: host, process and thread, for the operator reading the table."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:200]


@dataclass(frozen=True)
class Claim:
    job_id: int
    task: str
    params: dict[str, Any]
    attempt: int
    max_attempts: int


def claim(job_id: int, *, worker: str | None = None) -> Claim | None:
    """Take job ``job_id`` if it is queued and due; None when it is done, running elsewhere or not due."""
    with unit_of_work() as session:
        task_name = session.execute(select(OutboxJob.task).where(OutboxJob.id == job_id)).scalar_one_or_none()
        if task_name is None:
            return None
        registered = get_task(task_name)
        moment = now()
        row = session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == job_id, OutboxJob.state == "queued", OutboxJob.run_at <= moment)
            .values(
                state="running",
                attempts=OutboxJob.attempts + 1,
                lease_until=moment + (registered.lease if registered else DEFAULT_LEASE),
                claimed_by=worker or worker_name(),
            )
            .returning(OutboxJob.params, OutboxJob.attempts, OutboxJob.max_attempts)
            .execution_options(synchronize_session=False)
        ).first()
    if row is None:
        return None
    return Claim(job_id, task_name, dict(row.params or {}), row.attempts, row.max_attempts)


def run_job(job_id: int) -> str:
    """Claim, run and finish one job. Returns ``done``, ``retry``, ``failed`` or ``skipped`` (not claimed).

    An exception of the task is recorded and the job retried with backoff. Anything that is not an
    ``Exception`` (the process being stopped) leaves the claim to run out, for the sweep to recover.
    """
    taken = claim(job_id)
    if taken is None:
        return "skipped"
    registered = get_task(taken.task)
    try:
        if registered is None:
            raise LookupError(f"no task is registered as '{taken.task}' in this process")
        registered.fn(taken.params)
    except Exception as exc:
        log.exception("job %s (%s) failed on attempt %s", taken.job_id, taken.task, taken.attempt)
        return _record_failure(taken, exc)
    _finish(taken, state="done", error=None)
    return "done"


def _record_failure(taken: Claim, exc: Exception) -> str:
    if taken.attempt >= taken.max_attempts:
        _finish(taken, state="failed", error=repr(exc))
        return "failed"
    with unit_of_work() as session:
        session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == taken.job_id, OutboxJob.state == "running", OutboxJob.attempts == taken.attempt)
            .values(
                state="queued",
                run_at=now() + retry_delay(taken.attempt),
                sent_at=None,
                lease_until=None,
                last_error=repr(exc)[:2000],
            )
            .execution_options(synchronize_session=False)
        )
    return "retry"


def _finish(taken: Claim, *, state: str, error: str | None) -> None:
    with unit_of_work() as session:
        result = session.execute(
            update(OutboxJob)
            # The attempt number fences off a worker whose lease ran out and was taken over.
            .where(OutboxJob.id == taken.job_id, OutboxJob.state == "running", OutboxJob.attempts == taken.attempt)
            .values(state=state, finished_at=now(), lease_until=None, last_error=error[:2000] if error else None)
            .execution_options(synchronize_session=False)
        )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        log.warning("job %s finished after its lease was taken over; its outcome was not recorded", taken.job_id)


@dataclass(frozen=True)
class SweepReport:
    recovered: int
    given_up: int
    sent: list[int]


def sweep(dispatcher: dispatch.Dispatcher | None = None) -> SweepReport:
    """Recover jobs whose lease ran out and (re-)send queued jobs that are due but were never picked up.

    Safe to run anywhere at any time; the schedule runs it once per slot across all workers.
    """
    with unit_of_work() as session:
        moment = now()
        expired = (OutboxJob.state == "running", OutboxJob.lease_until < moment)
        given_up = session.execute(
            update(OutboxJob)
            .where(*expired, OutboxJob.attempts >= OutboxJob.max_attempts)
            .values(state="failed", finished_at=moment, lease_until=None, last_error="lease ran out on the last attempt")
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        recovered = session.execute(
            update(OutboxJob)
            .where(*expired)
            .values(state="queued", run_at=moment, sent_at=None, lease_until=None, last_error="lease ran out")
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        due = list(
            session.execute(
                select(OutboxJob.id)
                .where(
                    OutboxJob.state == "queued",
                    OutboxJob.run_at <= moment,
                    or_(OutboxJob.sent_at.is_(None), OutboxJob.sent_at < moment - RESEND_AFTER),
                )
                .order_by(OutboxJob.run_at, OutboxJob.id)
                .limit(SWEEP_BATCH)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        if due:
            session.execute(
                update(OutboxJob)
                .where(OutboxJob.id.in_(due))
                .values(sent_at=moment)
                .execution_options(synchronize_session=False)
            )
    if recovered or given_up:
        log.warning("sweep: %s job(s) recovered from expired leases, %s given up", recovered, given_up)
    if due:
        (dispatcher or dispatch.current()).send(due)
    return SweepReport(recovered, given_up, due)
