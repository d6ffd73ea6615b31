"""The transactional outbox: jobs run only after their transaction commits, once, and nothing is lost."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from boxoffice.kit.clock import now
from boxoffice.outbox import dispatch, runner
from boxoffice.outbox.dispatch import Synchronous
from boxoffice.outbox.models import OutboxJob
from boxoffice.outbox.service import enqueue
from boxoffice.outbox.tasks import Task, register

calls: Counter[str] = Counter()
failures_left: dict[str, int] = {}


def record(params: dict[str, Any]) -> None:
    key = params["key"]
    if failures_left.get(key, 0) > 0:
        failures_left[key] -= 1
        raise RuntimeError(f"{key} is not ready yet")
    calls[key] += 1


register(Task("test.outbox.record", record, lease=timedelta(minutes=1), max_attempts=3))


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()
    failures_left.clear()


def _job(uow, job_id: int) -> OutboxJob:  # type: ignore[no-untyped-def]
    with uow() as s:
        job = s.get(OutboxJob, job_id)
        assert job is not None
        return job


def test_a_job_queued_in_a_rolled_back_transaction_never_runs(uow, run_jobs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), uow() as s:
        enqueue(s, "test.outbox.record", {"key": "rolled-back"})
        raise RuntimeError("the business transaction fails")
    runner.sweep()
    with uow() as s:
        assert s.scalar(select(func.count(OutboxJob.id))) == 0
    assert calls["rolled-back"] == 0


def test_a_committed_job_runs_once_after_the_commit_and_never_again(uow, run_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        job_id = enqueue(s, "test.outbox.record", {"key": "once"})
        assert calls["once"] == 0, "nothing runs before the commit"
    assert calls["once"] == 1
    job = _job(uow, job_id)
    assert job.state == "done" and job.attempts == 1 and job.finished_at is not None
    assert runner.run_job(job_id) == "skipped"
    runner.sweep()
    assert calls["once"] == 1


def test_a_dedupe_key_returns_the_job_already_queued(uow, deferred_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        first = enqueue(s, "test.outbox.record", {"key": "a"}, dedupe_key="only-once")
    with uow() as s:
        second = enqueue(s, "test.outbox.record", {"key": "b"}, dedupe_key="only-once")
        assert second == first
    with uow() as s:
        assert s.scalar(select(func.count(OutboxJob.id))) == 1


def test_an_unknown_task_is_refused_when_queued(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s, pytest.raises(LookupError):
        enqueue(s, "test.outbox.no-such-task", {})


def test_a_job_for_later_waits_for_the_sweep_once_it_is_due(uow, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        job_id = enqueue(s, "test.outbox.record", {"key": "later"}, run_at=now() + timedelta(minutes=10))
    assert calls["later"] == 0
    assert runner.sweep().sent == []
    assert runner.run_job(job_id) == "skipped", "a job is not claimed before it is due"
    travel(601)
    assert runner.sweep().sent == [job_id]
    assert calls["later"] == 1 and _job(uow, job_id).state == "done"


def test_a_crash_between_commit_and_send_is_recovered_by_the_sweep(uow, deferred_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        job_id = enqueue(s, "test.outbox.record", {"key": "lost"})
    assert calls["lost"] == 0 and _job(uow, job_id).state == "queued"
    report = runner.sweep(Synchronous())
    assert report.sent == [job_id]
    assert calls["lost"] == 1 and _job(uow, job_id).state == "done"


def test_a_worker_killed_mid_job_leaves_work_a_later_sweep_completes(uow, deferred_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        job_id = enqueue(s, "test.outbox.record", {"key": "orphan"})
    dead = runner.claim(job_id, worker="worker-that-dies")
    assert dead is not None and dead.attempt == 1
    assert _job(uow, job_id).state == "running"
    assert runner.sweep(Synchronous()).recovered == 0, "the lease still holds"
    assert calls["orphan"] == 0

    travel(61)
    report = runner.sweep(Synchronous())
    assert report.recovered == 1 and report.sent == [job_id]
    assert calls["orphan"] == 1
    job = _job(uow, job_id)
    assert job.state == "done" and job.attempts == 2
    # The dead worker waking up late cannot overwrite the outcome of the attempt that took over.
    runner._finish(dead, state="failed", error="too late")
    assert _job(uow, job_id).state == "done"


def test_a_failing_job_is_retried_with_backoff_until_it_succeeds(uow, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    failures_left["flaky"] = 2
    with uow() as s:
        job_id = enqueue(s, "test.outbox.record", {"key": "flaky"})
    job = _job(uow, job_id)
    assert job.state == "queued" and job.attempts == 1 and "not ready" in (job.last_error or "")
    assert job.run_at > now() + timedelta(seconds=10)
    travel(16)
    runner.sweep()
    assert _job(uow, job_id).attempts == 2 and calls["flaky"] == 0
    travel(31)
    runner.sweep()
    job = _job(uow, job_id)
    assert job.state == "done" and job.attempts == 3 and calls["flaky"] == 1


def test_a_job_failing_every_attempt_ends_failed_and_is_not_run_again(uow, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    failures_left["broken"] = 99
    with uow() as s:
        job_id = enqueue(s, "test.outbox.record", {"key": "broken"})
    for _ in range(3):
        travel(3600)
        runner.sweep()
    job = _job(uow, job_id)
    assert job.state == "failed" and job.attempts == 3 and job.finished_at is not None
    assert failures_left["broken"] == 96


def test_of_many_workers_handed_the_same_job_exactly_one_runs_it(uow, deferred_jobs) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    with uow() as s:
        job_id = enqueue(s, "test.outbox.record", {"key": "contended"})
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(lambda _: runner.run_job(job_id), range(8)))
    assert outcomes == {"done": 1, "skipped": 7}
    assert calls["contended"] == 1


class DiesAfterCommit(Synchronous):
    """A dispatcher of this process whose process dies right after the commit: claims never run."""

    def run_claimed(self, claims: Any) -> None:
        return None


def test_a_job_written_claimed_by_a_process_that_dies_is_run_by_a_later_sweep(uow, travel) -> None:  # type: ignore[no-untyped-def]
    previous = dispatch.install(DiesAfterCommit())
    try:
        with uow() as s:
            job_id = enqueue(s, "test.outbox.record", {"key": "claimed-then-lost"})
        job = _job(uow, job_id)
        assert job.state == "running" and job.attempts == 1, "written claimed: no claim transaction"
        assert runner.sweep(Synchronous()).recovered == 0, "the lease still holds"
        travel(61)
        report = runner.sweep(Synchronous())
    finally:
        dispatch.install(previous)
    assert report.recovered == 1 and report.sent == [job_id]
    assert calls["claimed-then-lost"] == 1
    job = _job(uow, job_id)
    assert job.state == "done" and job.attempts == 2


def test_a_job_written_claimed_in_a_rolled_back_savepoint_never_runs(uow, run_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        savepoint = s.begin_nested()
        enqueue(s, "test.outbox.record", {"key": "savepoint"})
        savepoint.rollback()
        kept = enqueue(s, "test.outbox.record", {"key": "kept"})
    assert calls["savepoint"] == 0 and calls["kept"] == 1
    assert _job(uow, kept).state == "done"


def _queued_and_held(uow, key: str) -> tuple[int, list[runner.Claim]]:  # type: ignore[no-untyped-def]
    """A job queued for this process, written claimed, whose claim the dispatcher holds unrun."""
    held: list[runner.Claim] = []

    class Holds(Synchronous):
        def run_claimed(self, claims: Any) -> None:
            held.extend(claims)

    previous = dispatch.install(Holds())
    try:
        with uow() as s:
            job_id = enqueue(s, "test.outbox.record", {"key": key})
    finally:
        dispatch.install(previous)
    return job_id, held


def test_a_claim_that_waited_past_its_lease_is_left_to_the_sweep(uow, travel) -> None:  # type: ignore[no-untyped-def]
    job_id, held = _queued_and_held(uow, "late")
    travel(61)
    assert runner.run_claimed(held) == {job_id: "skipped"}
    assert calls["late"] == 0 and _job(uow, job_id).state == "running"


def test_claims_a_stopping_runner_never_ran_are_handed_back_for_the_sweep(uow) -> None:  # type: ignore[no-untyped-def]
    job_id, held = _queued_and_held(uow, "handed-back")
    runner.hand_back(held)
    job = _job(uow, job_id)
    assert job.state == "queued" and job.attempts == 0
    assert runner.sweep(Synchronous()).sent == [job_id]
    assert calls["handed-back"] == 1 and _job(uow, job_id).state == "done"
