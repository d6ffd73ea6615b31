"""Queue a job inside the caller's transaction; it is sent to a runner only once that transaction commits.

The row is the job's durable record. After commit the job's id goes to the process's dispatcher;
on rollback it is forgotten together with the row. If the process dies between the commit and
the send, the periodic sweep (:func:`boxoffice.outbox.runner.sweep`) finds the row and sends it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from boxoffice.kit.clock import now
from boxoffice.outbox import dispatch
from boxoffice.outbox.models import OutboxJob
from boxoffice.outbox.repository import insert_or_skip
from boxoffice.outbox.tasks import get_task

log = logging.getLogger(__name__)

_TO_SEND = "boxoffice.outbox.to-send"


def enqueue(
    session: Session,
    task: str,
    params: dict[str, Any],
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Queue ``task(params)`` in the caller's transaction and return the job's id.

    ``run_at`` delays the job (the sweep sends it once it is due). With ``dedupe_key``, a job
    already queued under that key (by anyone, committed or racing) is returned instead of a new one.
    ``params`` must be plain JSON values.
    """
    registered = get_task(task)
    if registered is None:
        raise LookupError(f"no task is registered as '{task}'")
    moment = now()
    due = run_at is None or run_at <= moment
    dispatcher = dispatch.current()
    values: dict[str, Any] = {
        "task": task,
        "params": params,
        "state": "queued",
        "dedupe_key": dedupe_key,
        "run_at": run_at or moment,
        # Marked sent now when the commit hook will send it; the sweep re-sends it if that never happens.
        "sent_at": moment if due and dispatcher.sends_after_commit else None,
        "attempts": 0,
        "max_attempts": registered.max_attempts,
        "created_at": moment,
    }
    if dedupe_key is None:
        job = OutboxJob(**values)
        session.add(job)
        session.flush()
        job_id = job.id
    else:
        inserted = insert_or_skip(session, OutboxJob, values, unique=["dedupe_key"])
        if inserted is None:
            return session.execute(select(OutboxJob.id).where(OutboxJob.dedupe_key == dedupe_key)).scalar_one()
        job_id = inserted
    if due:
        session.info.setdefault(_TO_SEND, []).append(job_id)
    return job_id


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    # Releasing a savepoint fires this too; the jobs go out only with the outermost commit.
    if session.in_nested_transaction():
        return
    job_ids = session.info.pop(_TO_SEND, None)
    if not job_ids:
        return
    try:
        dispatch.current().send(job_ids)
    except Exception:
        # The commit stands; the sweep sends these rows once they look forgotten.
        log.exception("could not send jobs %s after commit; the sweep will send them", job_ids)


@event.listens_for(Session, "after_transaction_end")
def _forget_unsent(session: Session, transaction: SessionTransaction) -> None:
    # Runs after ``after_commit`` (which took the ids) and after a rollback or close (which drops them).
    if transaction.parent is None:
        session.info.pop(_TO_SEND, None)
