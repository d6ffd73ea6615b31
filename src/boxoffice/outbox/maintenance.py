"""Housekeeping tasks of the outbox: pruning finished rows, and sweeping the provider inbox."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.outbox.models import OutboxJob, ScheduleRun
from boxoffice.outbox.tasks import Task

log = logging.getLogger(__name__)

# Done jobs are kept this long for operators (and as the window in which a dedupe key holds).
KEEP_DONE_JOBS = timedelta(days=14)
KEEP_SCHEDULE_RUNS = timedelta(days=2)
# An event this long untouched after it was stored was not going to be processed by its request.
INBOX_GRACE = timedelta(minutes=2)


def prune(params: dict[str, Any]) -> None:
    """Delete done jobs and old schedule slots; failed jobs stay for an operator to look at."""
    moment = now()
    with unit_of_work() as session:
        session.execute(
            delete(OutboxJob)
            .where(OutboxJob.state == "done", OutboxJob.finished_at < moment - KEEP_DONE_JOBS)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(ScheduleRun)
            .where(ScheduleRun.slot < moment - KEEP_SCHEDULE_RUNS)
            .execution_options(synchronize_session=False)
        )


PRUNE = Task("outbox.prune", prune, max_attempts=3)


def sweep_inbox(params: dict[str, Any]) -> None:
    """Process provider events that were stored but never handled (a crash between storing and processing)."""
    from boxoffice.inbox.service import sweep_unprocessed

    tried = sweep_unprocessed(INBOX_GRACE)
    if tried:
        log.info("inbox sweep: %s event(s) processed again", tried)


SWEEP_INBOX = Task("inbox.sweep", sweep_inbox, max_attempts=3)
