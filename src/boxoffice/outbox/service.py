"""Queue a job inside the caller's transaction; it is sent to a runner only once that transaction commits.

The row is the job's durable record. After commit the job's id goes to the process's dispatcher;
on rollback it is forgotten together with the row. If the process dies between the commit and
the send, the periodic sweep (:func:`boxoffice.outbox.runner.sweep`) finds the row and sends it.

When this process runs its jobs itself (:class:`boxoffice.outbox.dispatch.RunsHere`), a due job is
written already claimed by it — ``running``, first attempt, leased — so running it needs no claim
transaction; the task's ``prepare`` then runs in this transaction just before it commits, and after
commit the claim goes to the dispatcher. Should the process die before the job is done, the lease
runs out and the sweep queues the job again for any worker, as for any claimed job.
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
from boxoffice.outbox.runner import Claim, prepare, worker_name
from boxoffice.outbox.tasks import get_task

log = logging.getLogger(__name__)

_TO_SEND = "boxoffice.outbox.to-send"
# Jobs written claimed by this process, each with the (innermost) transaction that wrote it.
_CLAIMED = "boxoffice.outbox.claimed"


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
    claimed = due and isinstance(dispatcher, dispatch.RunsHere)
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
    if claimed:
        lease_until = moment + registered.lease
        values.update(state="running", attempts=1, lease_until=lease_until, claimed_by=worker_name())
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
    if claimed:
        taken = Claim(
            job_id,
            task,
            params,
            attempt=1,
            max_attempts=registered.max_attempts,
            prepared=registered.prepare is None,
            lease_until=lease_until,
        )
        writer = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_CLAIMED, []).append((taken, writer))
    elif due:
        session.info.setdefault(_TO_SEND, []).append(job_id)
    return job_id


@event.listens_for(Session, "before_commit")
def _prepare_claimed(session: Session) -> None:
    # The transaction's state is final here: what ``prepare`` reads is what the commit leaves.
    # (A job queued by a later ``before_commit`` hook is prepared by the runner instead.)
    if session.in_nested_transaction():
        return
    claimed = session.info.get(_CLAIMED)
    if claimed:
        claimed[:] = [(prepare(session, taken), writer) for taken, writer in claimed]


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    # Releasing a savepoint fires this too; the jobs go out only with the outermost commit.
    if session.in_nested_transaction():
        return
    job_ids = session.info.pop(_TO_SEND, None)
    claims = [taken for taken, _ in session.info.pop(_CLAIMED, ())]
    dispatcher = dispatch.current()
    try:
        if claims:
            if not isinstance(dispatcher, dispatch.RunsHere):
                raise RuntimeError("the dispatcher that claimed these jobs is no longer installed")
            dispatcher.run_claimed(claims)
        if job_ids:
            dispatcher.send(job_ids)
    except Exception:
        # The commit stands; the sweep sends these rows once they look forgotten (claimed ones once
        # their lease has run out).
        log.exception("could not hand over jobs %s after commit; the sweep will send them", job_ids or claims)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_claims(session: Session, previous: SessionTransaction) -> None:
    # A savepoint rolled back took its job rows with it: their claims must not run.
    claimed = session.info.get(_CLAIMED)
    if claimed:
        claimed[:] = [(taken, writer) for taken, writer in claimed if not _within(writer, previous)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_transaction_end")
def _forget_unsent(session: Session, transaction: SessionTransaction) -> None:
    # Runs after ``after_commit`` (which took the ids) and after a rollback or close (which drops them).
    if transaction.parent is None:
        session.info.pop(_TO_SEND, None)
        session.info.pop(_CLAIMED, None)
