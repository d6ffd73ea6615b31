"""The job runner inside ``boxoffice serve`` when no broker is configured: threads of the web process.

Several ``serve`` processes (``--workers N``) each run one; the job claims and the schedule's slot
claims in the database keep them from doing the same work twice.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

from boxoffice.outbox import dispatch, runner, schedule
from boxoffice.outbox.runner import Claim

log = logging.getLogger(__name__)

# Jobs claimed (unless written claimed) and recorded together by one thread (one claim and one finishing transaction).
BATCH = 20


class EmbeddedRunner:
    """Runs committed jobs on a few threads and ticks the schedule; a dispatcher while it runs."""

    sends_after_commit = True

    def __init__(self, *, threads: int = 2, tick_seconds: float = schedule.TICK_SECONDS) -> None:
        self.threads = threads
        self.tick_seconds = tick_seconds
        self._queue: queue.Queue[int | Claim | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._previous: dispatch.Dispatcher | None = None

    def send(self, job_ids: Sequence[int]) -> None:
        for job_id in job_ids:
            self._queue.put(job_id)

    def run_claimed(self, claims: Sequence[Claim]) -> None:
        for taken in claims:
            self._queue.put(taken)

    def start(self) -> None:
        self._previous = dispatch.install(self)
        for number in range(self.threads):
            self._spawn(self._work, f"boxoffice-jobs-{number}")
        self._spawn(self._schedule, "boxoffice-scheduler")
        log.info("embedded job runner started with %s thread(s)", self.threads)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking jobs, let the running ones finish (up to ``timeout`` each)."""
        self._stop.set()
        for _ in range(self.threads):
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        dispatch.install(self._previous)
        # Jobs queued behind the stop signals: claims are handed back (the sweep sends them at once
        # rather than after their lease), ids are still queued rows the sweep sends anyway.
        left = []
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if isinstance(job, Claim):
                left.append(job)
        if left:
            try:
                runner.hand_back(left)
            except Exception:
                log.exception("claims %s could not be handed back; their leases run out", [t.job_id for t in left])

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if not batch:
                return
            try:
                runner.run_batch(batch)
            except Exception:
                # The rows stay queued or running; the sweep hands them out again.
                log.exception("jobs %s could not be run", batch)

    def _next_batch(self) -> list[int | Claim]:
        """The next job waiting and those queued behind it (up to :data:`BATCH`), to claim (if not
        claimed already) and record in one go; empty when the runner is stopping."""
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        while len(batch) < BATCH:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)  # this thread's stop signal stays for the next get
                break
            batch.append(job)
        return batch

    def _schedule(self) -> None:
        schedule.run_scheduler(self._stop, tick_seconds=self.tick_seconds)
