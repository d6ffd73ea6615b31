"""Running background jobs: ``boxoffice worker`` (Dramatiq on Redis) and the runner inside ``serve``.

With ``BOXOFFICE_REDIS_URL`` set, ``boxoffice worker`` starts Dramatiq's own process supervisor:
``--processes`` worker processes with ``--threads`` threads each run the jobs, and one more process
runs the scheduler (periodic work and the outbox sweep). Start it on as many machines as needed;
jobs are claimed in the database and schedule slots are claimed once across all of them.

Without Redis, ``boxoffice serve`` runs jobs on threads of each web process
(:class:`boxoffice.outbox.embedded.EmbeddedRunner`); ``boxoffice worker`` then runs that same
runner on its own, for a deployment that keeps jobs out of the web processes.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from boxoffice.config import get_settings
from boxoffice.kit.lifespan import around_lifespan
from boxoffice.outbox import dispatch, schedule
from boxoffice.outbox.embedded import EmbeddedRunner
from boxoffice.outbox.tasks import load_tasks

log = logging.getLogger(__name__)

EMBEDDED_THREADS = 2


@contextmanager
def embedded_jobs(*, threads: int = EMBEDDED_THREADS) -> Iterator[EmbeddedRunner | None]:
    """Run jobs and the schedule on threads of this process while inside, unless a broker is configured."""
    if get_settings().redis_url:
        yield None
        return
    runner = EmbeddedRunner(threads=threads)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


def with_embedded_jobs(app: FastAPI) -> FastAPI:
    """``app`` with its lifespan wrapped in :func:`embedded_jobs` (what ``boxoffice serve`` runs)."""
    return around_lifespan(app, embedded_jobs)


def setup_broker() -> None:
    """Dramatiq's entry point in every worker process: the Redis broker with the job actor."""
    from boxoffice.outbox.broker import DramatiqDispatcher, get_broker

    url = get_settings().redis_url
    if not url:
        raise RuntimeError("BOXOFFICE_REDIS_URL is not set")
    broker = get_broker(url)
    dispatch.install(DramatiqDispatcher(broker))
    load_tasks()


def run_scheduler() -> int:
    """Dramatiq fork function: tick the schedule until the supervisor stops this process."""
    setup_broker()
    log.info("scheduler started")
    schedule.run_scheduler(threading.Event())
    return 0


def run_worker(*, processes: int, threads: int) -> int:
    """``boxoffice worker``: Dramatiq workers plus the scheduler, or the embedded runner without Redis."""
    if get_settings().redis_url:
        from dramatiq.cli import main as dramatiq_main
        from dramatiq.cli import make_argument_parser

        args = make_argument_parser().parse_args(
            [
                "boxoffice.worker:setup_broker",
                "--processes",
                str(processes),
                "--threads",
                str(threads),
                "--fork-function",
                "boxoffice.worker:run_scheduler",
            ]
        )
        code: int = dramatiq_main(args)
        return code
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with embedded_jobs(threads=threads):
        log.info("no BOXOFFICE_REDIS_URL: running jobs in this process (%s threads)", threads)
        stop.wait()
    return 0
