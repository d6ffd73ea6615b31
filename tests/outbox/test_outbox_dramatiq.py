"""End to end on Redis: a real Dramatiq worker (in a thread) runs jobs sent after commit or by the sweep."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select

from boxoffice.outbox import dispatch, runner
from boxoffice.outbox.broker import DramatiqDispatcher, make_broker
from boxoffice.outbox.models import OutboxJob
from boxoffice.outbox.service import enqueue
from boxoffice.outbox.tasks import Task, register
from components import redis_url

seen: list[str] = []


def note(params: dict[str, Any]) -> None:
    seen.append(params["text"])


register(Task("test.dramatiq.note", note))


@pytest.fixture
def broker() -> Iterator[RedisBroker]:
    """A broker on the test Redis under a namespace of its own (parallel test workers never meet)."""
    broker = make_broker(redis_url(), namespace=f"boxoffice-test-{uuid.uuid4().hex[:8]}")
    yield broker
    keys = list(broker.client.scan_iter(f"{broker.namespace}*"))
    if keys:
        broker.client.delete(*keys)
    broker.close()


@pytest.fixture
def worker(broker: RedisBroker) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def _wait_done(uow, job_ids: list[int], timeout: float = 15.0) -> set[str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        with uow() as s:
            states = set(s.scalars(select(OutboxJob.state).where(OutboxJob.id.in_(job_ids))))
        if states == {"done"} or time.monotonic() > deadline:
            return states
        time.sleep(0.05)


def test_a_dramatiq_worker_runs_the_jobs_sent_after_commit(uow, broker, worker) -> None:  # type: ignore[no-untyped-def]
    seen.clear()
    previous = dispatch.install(DramatiqDispatcher(broker))
    try:
        with uow() as s:
            job_ids = [enqueue(s, "test.dramatiq.note", {"text": f"via redis {n}"}) for n in range(3)]
        assert _wait_done(uow, job_ids) == {"done"}
    finally:
        dispatch.install(previous)
    assert sorted(seen) == ["via redis 0", "via redis 1", "via redis 2"]


def test_a_job_whose_message_was_never_sent_reaches_the_worker_through_the_sweep(uow, broker, worker) -> None:  # type: ignore[no-untyped-def]
    seen.clear()
    previous = dispatch.install(dispatch.Deferred())  # the web process died before it could send
    try:
        with uow() as s:
            job_id = enqueue(s, "test.dramatiq.note", {"text": "swept"})
    finally:
        dispatch.install(previous)
    time.sleep(0.1)
    assert seen == [], "nothing reached the worker"
    assert runner.sweep(DramatiqDispatcher(broker)).sent == [job_id]
    assert _wait_done(uow, [job_id]) == {"done"}
    assert seen == ["swept"]
