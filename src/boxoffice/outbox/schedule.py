"""Periodic work, run once per time slot across every worker process on every machine.

Each worker's scheduler ticks every few seconds. For each periodic task it computes the current
slot (``rules.slot_start``) and tries to insert ``(task, slot)`` into ``schedule_runs``; the unique
key lets exactly one insert succeed, and the winner queues the job in that same transaction — so a
slot is never lost to a crash between claiming and queueing, and never run twice. The database is
the one thing every worker already shares, so no broker feature or extra lock service is needed,
and the same code schedules for the embedded runner and for Dramatiq workers alike.

The outbox sweep itself runs inline in the scheduler (not as a queued job), so it keeps working
while the broker is the thing that lost messages.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.outbox import runner
from boxoffice.outbox.models import ScheduleRun
from boxoffice.outbox.repository import insert_or_skip
from boxoffice.outbox.rules import slot_start
from boxoffice.outbox.service import enqueue
from boxoffice.outbox.tasks import get_task

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
SWEEP = "outbox.sweep"
SWEEP_EVERY = timedelta(seconds=15)


@dataclass(frozen=True)
class Periodic:
    task: str
    every: timedelta


PERIODIC: tuple[Periodic, ...] = (
    Periodic("orders.expire-due", timedelta(minutes=1)),
    Periodic("orders.remind-expiring", timedelta(minutes=5)),
    Periodic("payments.janitor", timedelta(minutes=1)),
    Periodic("inbox.sweep", timedelta(minutes=1)),
    Periodic("outbox.prune", timedelta(hours=1)),
    Periodic("api.prune", timedelta(hours=1)),
)


def _claim_slot(session: Session, task: str, every: timedelta, worker: str) -> bool:
    slot = slot_start(now(), every)
    values = {"task": task, "slot": slot, "claimed_by": worker, "claimed_at": now()}
    return insert_or_skip(session, ScheduleRun, values, unique=["task", "slot"]) is not None


def tick(*, worker: str | None = None) -> list[str]:
    """Claim the current slot of every periodic task that is free; queue those jobs and sweep if ours.

    Returns the names of the tasks this call started.
    """
    worker = worker or runner.worker_name()
    started: list[str] = []
    with unit_of_work() as session:
        sweep_is_ours = _claim_slot(session, SWEEP, SWEEP_EVERY, worker)
        for periodic in PERIODIC:
            if get_task(periodic.task) is None:
                # A task whose module failed to load must not keep the others from being scheduled.
                log.error("periodic task %s is not registered in this process; not scheduled", periodic.task)
                continue
            if _claim_slot(session, periodic.task, periodic.every, worker):
                enqueue(session, periodic.task, {})
                started.append(periodic.task)
    if sweep_is_ours:
        runner.sweep()
        started.insert(0, SWEEP)
    return started


def run_scheduler(stop: threading.Event, *, tick_seconds: float = TICK_SECONDS) -> None:
    """Tick until ``stop`` is set; a failing tick is logged and the next one tries again."""
    while not stop.is_set():
        try:
            tick()
        except Exception:
            log.exception("scheduler tick failed")
        stop.wait(tick_seconds)
