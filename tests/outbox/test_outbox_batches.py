"""Jobs handed over together are claimed and recorded together: one claim, one finishing transaction;
a task may read in the claim and write with the finish."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from boxoffice.outbox import runner
from boxoffice.outbox.models import OutboxJob
from boxoffice.outbox.service import enqueue
from boxoffice.outbox.tasks import Finish, Task, register

seen: list[tuple[str, Any]] = []


def _read(session: Session, params: dict[str, Any]) -> dict[str, Any]:
    job = session.scalars(select(OutboxJob).where(OutboxJob.params["key"].as_string() == params["key"])).one()
    seen.append(("prepared", job.state))
    return {**params, "claimed-by": job.claimed_by}


def staged(params: dict[str, Any]) -> Finish:
    seen.append(("ran", params["key"]))

    def finish(session: Session) -> None:
        # In the unit of work that records the job done, before it does.
        job = session.scalars(select(OutboxJob).where(OutboxJob.params["key"].as_string() == params["key"])).one()
        seen.append(("finished", job.state))

    return finish


register(Task("test.batch.staged", staged, prepare=_read, lease=timedelta(minutes=2)))


def never(params: dict[str, Any]) -> None:
    seen.append(("ran", "never"))


register(Task("test.batch.broken-prepare", never, prepare=lambda _s, _p: 1 / 0))  # type: ignore[arg-type, misc]


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    seen.clear()
    yield


@pytest.fixture
def commits(database_url: str) -> Iterator[list[str]]:
    """This thread's commits on any engine: the runner's may be a newer one than this test's, after
    another test disposed the engines; other threads (servers of earlier tests) are not counted."""
    log: list[str] = []
    me = threading.get_ident()

    def commit(_conn: Any) -> None:
        if threading.get_ident() == me:
            log.append("commit")

    event.listen(Engine, "commit", commit)
    yield log
    event.remove(Engine, "commit", commit)


def test_jobs_sent_together_are_claimed_in_one_transaction_and_recorded_in_one(uow, deferred_jobs, commits) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        job_ids = [enqueue(s, "test.batch.staged", {"key": f"job-{n}"}) for n in range(3)]
    commits.clear()
    assert runner.run_jobs(job_ids) == dict.fromkeys(job_ids, "done")
    assert len(commits) == 2
    # Each task read its row as claimed (running, with this worker's name) and wrote with the finish.
    assert seen[:3] == [("prepared", "running")] * 3
    assert [e for e in seen if e[0] == "ran"] == [("ran", f"job-{n}") for n in range(3)]
    assert seen[-3:] == [("finished", "running")] * 3
    with uow() as s:
        jobs = s.scalars(select(OutboxJob).where(OutboxJob.id.in_(job_ids))).all()
        assert {(j.state, j.attempts, j.lease_until) for j in jobs} == {("done", 1, None)}
    assert runner.run_jobs(job_ids) == dict.fromkeys(job_ids, "skipped"), "a job done is not run again"


def test_a_job_whose_preparation_fails_is_retried_and_the_others_of_its_batch_still_run(uow, deferred_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        broken = enqueue(s, "test.batch.broken-prepare", {})
        fine = enqueue(s, "test.batch.staged", {"key": "fine"})
    assert runner.run_jobs([broken, fine]) == {broken: "retry", fine: "done"}
    with uow() as s:
        job = s.get(OutboxJob, broken)
        assert job is not None and job.state == "queued" and "ZeroDivisionError" in (job.last_error or "")
    assert ("ran", "never") not in seen


def test_each_task_holds_its_own_lease_in_a_shared_claim(uow, deferred_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        staged_id = enqueue(s, "test.batch.staged", {"key": "leased"})
        other_id = enqueue(s, "test.batch.broken-prepare", {})
    claims = runner.claim_many([staged_id, other_id], worker="w")
    assert [c.job_id for c in claims] == [staged_id, other_id]
    with uow() as s:
        lease = {
            j.id: j.lease_until for j in s.scalars(select(OutboxJob).where(OutboxJob.id.in_([staged_id, other_id])))
        }
    assert lease[other_id] - lease[staged_id] == timedelta(minutes=15) - timedelta(minutes=2)
