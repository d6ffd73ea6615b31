"""Running jobs: claim a row, run its task, record the outcome; and the sweep that recovers lost work.

Jobs are claimed with one conditional ``UPDATE … WHERE state = 'queued' RETURNING`` (a batch of
them at once, see :func:`run_jobs`), so of several workers
handed the same job (a re-sent message, two sweeps) exactly one runs it, and a job that is done is
never run again. The claim holds a lease; a worker that dies mid-job leaves the row ``running``
until the lease passes, and the sweep then queues it again for another worker.

A process that runs its jobs itself (the embedded runner, the synchronous dispatcher) writes them
already claimed, in the transaction that queues them (:func:`boxoffice.outbox.service.enqueue`), and
runs them with :func:`run_claimed`: no claim transaction, the same lease and the same recovery.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, or_, select, update
from sqlalchemy.orm import Session

from boxoffice.db import UTCDateTime, unit_of_work
from boxoffice.kit.clock import now
from boxoffice.outbox import dispatch
from boxoffice.outbox.models import OutboxJob
from boxoffice.outbox.rules import retry_delay
from boxoffice.outbox.tasks import DEFAULT_LEASE, Finish, custom_leases, get_task

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
    # Why the task's ``prepare`` failed in the claim's unit of work (the attempt then counts as failed).
    problem: Exception | None = None
    # Whether the task's ``prepare`` (if it has one) has run: ``params`` are then what the task is called with.
    prepared: bool = False
    # Set on a claim taken when the job was written: past it, the sweep may have handed the job to another worker.
    lease_until: datetime | None = None


def claim(job_id: int, *, worker: str | None = None) -> Claim | None:
    """Take job ``job_id`` if it is queued and due; None when it is done, running elsewhere or not due."""
    claims = claim_many([job_id], worker=worker)
    return claims[0] if claims else None


def claim_many(job_ids: Sequence[int], *, worker: str | None = None) -> list[Claim]:
    """Take those of ``job_ids`` that are queued and due, with one ``UPDATE … RETURNING``, and run
    their tasks' ``prepare`` in the same unit of work. Jobs done, running elsewhere or not due are left out."""
    if not job_ids:
        return []
    with unit_of_work() as session:
        moment = now()
        rows = session.execute(
            update(OutboxJob)
            .where(OutboxJob.id.in_(list(job_ids)), OutboxJob.state == "queued", OutboxJob.run_at <= moment)
            .values(
                state="running",
                attempts=OutboxJob.attempts + 1,
                lease_until=_lease_until(moment),
                claimed_by=worker or worker_name(),
            )
            .returning(OutboxJob.id, OutboxJob.task, OutboxJob.params, OutboxJob.attempts, OutboxJob.max_attempts)
            .execution_options(synchronize_session=False)
        ).all()
        claims = [
            prepare(session, Claim(r.id, r.task, dict(r.params or {}), r.attempts, r.max_attempts)) for r in rows
        ]
    order = {job_id: n for n, job_id in enumerate(job_ids)}
    return sorted(claims, key=lambda c: order[c.job_id])


def _lease_until(moment: datetime) -> ColumnElement[datetime]:
    """Each claimed job's lease end, by its task's lease (one expression for a batch of tasks)."""
    default = literal(moment + DEFAULT_LEASE, UTCDateTime)
    leases = custom_leases()
    if not leases:
        return default
    return case(
        {name: literal(moment + lease, UTCDateTime) for name, lease in leases.items()},
        value=OutboxJob.task,
        else_=default,
    )


def prepare(session: Session, taken: Claim) -> Claim:
    """``taken`` with its task's ``prepare`` run in ``session`` (the claim's unit of work); a failure
    is kept as the claim's problem."""
    registered = get_task(taken.task)
    if taken.prepared or registered is None or registered.prepare is None:
        return replace(taken, prepared=True)
    try:
        return replace(taken, params=registered.prepare(session, taken.params), prepared=True)
    except Exception as exc:
        log.exception("job %s (%s) could not be prepared", taken.job_id, taken.task)
        return replace(taken, problem=exc, prepared=True)


def run_job(job_id: int) -> str:
    """Claim, run and finish one job. Returns ``done``, ``retry``, ``failed`` or ``skipped`` (not claimed)."""
    return run_jobs([job_id])[job_id]


def run_jobs(job_ids: Sequence[int]) -> dict[int, str]:
    """Claim the jobs in one unit of work, run each, and record those done in one more; returns each
    job's outcome: ``done``, ``retry``, ``failed`` or ``skipped`` (not claimed).

    An exception of a task is recorded and the job retried with backoff. Anything that is not an
    ``Exception`` (the process being stopped) leaves the claims to run out, for the sweep to recover.
    """
    return _run(claim_many(job_ids), dict.fromkeys(job_ids, "skipped"))


def run_claimed(claims: Sequence[Claim]) -> dict[int, str]:
    """Run jobs this process claimed when it wrote them, and record those done in one unit of work.

    A claim whose lease ran out before it got its turn is left alone (``skipped``): the sweep may
    have handed the job to another worker already. Claims not prepared in the transaction that
    wrote them are prepared together in one unit of work first.
    """
    outcomes = {taken.job_id: "skipped" for taken in claims}
    moment = now()
    current = []
    for taken in claims:
        if taken.lease_until is not None and taken.lease_until <= moment:
            log.warning("job %s waited past its lease; the sweep hands it out again", taken.job_id)
        else:
            current.append(taken)
    if any(not taken.prepared for taken in current):
        with unit_of_work() as session:
            current = [prepare(session, taken) for taken in current]
    return _run(current, outcomes)


def run_batch(jobs: Sequence[int | Claim]) -> dict[int, str]:
    """Run jobs handed over together: claims taken when they were written, and ids still to claim."""
    outcomes = run_claimed([job for job in jobs if isinstance(job, Claim)])
    outcomes.update(run_jobs([job for job in jobs if isinstance(job, int)]))
    return outcomes


def _run(claims: Sequence[Claim], outcomes: dict[int, str]) -> dict[int, str]:
    done: list[tuple[Claim, Finish | None]] = []
    for taken in claims:
        registered = get_task(taken.task)
        try:
            if registered is None:
                raise LookupError(f"no task is registered as '{taken.task}' in this process")
            if taken.problem is not None:
                raise taken.problem
            done.append((taken, registered.fn(taken.params)))
        except Exception as exc:
            log.exception("job %s (%s) failed on attempt %s", taken.job_id, taken.task, taken.attempt)
            outcomes[taken.job_id] = _record_failure(taken, exc)
    if done:
        _finish_done(done)
        outcomes.update((taken.job_id, "done") for taken, _ in done)
    return outcomes


def _finish_done(done: list[tuple[Claim, Finish | None]]) -> None:
    """Record the jobs done with one ``UPDATE`` (each fenced by its attempt number), with what the
    tasks left to this unit of work."""
    with unit_of_work() as session:
        for _, finish in done:
            if finish is not None:
                finish(session)
        result = session.execute(
            update(OutboxJob)
            .where(_still_held([claim for claim, _ in done]))
            .values(state="done", finished_at=now(), lease_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
    if result.rowcount < len(done):  # type: ignore[attr-defined]
        log.warning("%s job(s) finished after their lease was taken over", len(done) - result.rowcount)  # type: ignore[attr-defined]


def hand_back(claims: Sequence[Claim]) -> None:
    """Give up claims that were never run (the runner is stopping): the jobs are queued again,
    as if never claimed, for the sweep to send now."""
    with unit_of_work() as session:
        session.execute(
            update(OutboxJob)
            .where(_still_held(claims))
            .values(state="queued", attempts=OutboxJob.attempts - 1, sent_at=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


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


def _still_held(claims: Sequence[Claim]) -> ColumnElement[bool]:
    """The jobs of ``claims`` still running under those very claims: a job whose lease ran out and
    was claimed again (a higher attempt) belongs to its new claim."""
    return and_(
        or_(*(and_(OutboxJob.id == claim.job_id, OutboxJob.attempts == claim.attempt) for claim in claims)),
        OutboxJob.state == "running",
    )
