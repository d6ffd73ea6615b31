"""``boxoffice worker`` on Redis and the runner inside ``serve``: jobs get done by the real commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boxoffice.app import serve_app
from boxoffice.outbox.models import OutboxJob
from boxoffice.outbox.service import enqueue
from components import redis_url


def _state(uow, job_id: int) -> str:  # type: ignore[no-untyped-def]
    with uow() as s:
        return s.scalar(select(OutboxJob.state).where(OutboxJob.id == job_id)) or "missing"


def _wait_for(uow, job_id: int, state: str, timeout: float) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while (current := _state(uow, job_id)) != state and time.monotonic() < deadline:
        time.sleep(0.1)
    return current


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def worker(database_url: str, tmp_path: Path) -> Iterator[WorkerProcess]:
    """``boxoffice worker`` on the test database and Redis, its output in a file."""
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": database_url, "BOXOFFICE_REDIS_URL": redis_url()}
    command = [sys.executable, "-c", "from boxoffice.cli import main; main()", "worker", "--processes", "1"]
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen([*command, "--threads", "1"], env=env, stdout=output, stderr=subprocess.STDOUT)
        yield WorkerProcess(process, log)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_boxoffice_worker_picks_up_a_job_nobody_sent_and_stops_on_sigterm(uow, deferred_jobs, worker) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        job_id = enqueue(s, "outbox.prune", {})
    # Only the worker's scheduler can get this job going: its sweep sends it to Redis.
    assert _wait_for(uow, job_id, "done", timeout=60) == "done", worker.log.read_text()
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0


def test_serve_runs_jobs_in_its_own_threads_without_a_broker(uow, deferred_jobs, monkeypatch: Any) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("BOXOFFICE_REDIS_URL", raising=False)
    with TestClient(serve_app()):
        with uow() as s:
            job_id = enqueue(s, "outbox.prune", {})
        assert _wait_for(uow, job_id, "done", timeout=20) == "done"
