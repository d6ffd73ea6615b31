"""Periodic work is scheduled once per slot across workers; the embedded runner runs jobs in threads."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.outbox import schedule
from boxoffice.outbox.embedded import EmbeddedRunner
from boxoffice.outbox.models import OutboxJob, ScheduleRun
from boxoffice.outbox.service import enqueue
from boxoffice.outbox.tasks import Task, register

ran: list[str] = []


def note(params: dict[str, Any]) -> None:
    ran.append(params["text"])


register(Task("test.schedule.note", note))


def _queued_tasks(uow) -> Counter[str]:  # type: ignore[no-untyped-def]
    with uow() as s:
        return Counter(s.scalars(select(OutboxJob.task)))


def test_a_tick_starts_each_periodic_task_once_per_slot(uow, deferred_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    first = schedule.tick(worker="a")
    assert first == [schedule.SWEEP, *(p.task for p in schedule.PERIODIC)]
    assert schedule.tick(worker="b") == []
    travel(3600)
    again = schedule.tick(worker="b")
    assert set(again) == {schedule.SWEEP, *(p.task for p in schedule.PERIODIC)}
    assert _queued_tasks(uow) == Counter({p.task: 2 for p in schedule.PERIODIC})
    with uow() as s:
        claims = Counter((run.task, run.claimed_by) for run in s.scalars(select(ScheduleRun)))
    assert claims[(schedule.SWEEP, "a")] == 1 and claims[(schedule.SWEEP, "b")] == 1


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres-concurrency")
def test_ten_workers_ticking_at_once_start_each_periodic_task_once(pg, uow, deferred_jobs) -> None:  # type: ignore[no-untyped-def]
    barrier = Barrier(10)

    def tick(number: int) -> list[str]:
        barrier.wait()
        return schedule.tick(worker=f"worker-{number}")

    with ThreadPoolExecutor(max_workers=10) as pool:
        started = Counter(name for names in pool.map(tick, range(10)) for name in names)
    assert started == Counter({schedule.SWEEP: 1, **{p.task: 1 for p in schedule.PERIODIC}})
    assert _queued_tasks(uow) == Counter({p.task: 1 for p in schedule.PERIODIC})


def test_the_embedded_runner_runs_committed_jobs_on_its_threads(uow) -> None:  # type: ignore[no-untyped-def]
    ran.clear()
    runner = EmbeddedRunner(threads=2, tick_seconds=3600)
    runner.start()
    try:
        with uow() as s:
            job_ids = [enqueue(s, "test.schedule.note", {"text": f"job {n}"}) for n in range(5)]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with uow() as s:
                states = set(s.scalars(select(OutboxJob.state).where(OutboxJob.id.in_(job_ids))))
            if states == {"done"}:
                break
            time.sleep(0.02)
    finally:
        runner.stop()
    assert states == {"done"}
    assert sorted(ran) == [f"job {n}" for n in range(5)]
