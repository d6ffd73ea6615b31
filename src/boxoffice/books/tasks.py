"""Background work of the books, run by the outbox's workers."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from boxoffice.books.shred import JOB_KIND, run_shred_job
from boxoffice.errors import DomainError
from boxoffice.outbox.tasks import Task

log = logging.getLogger(__name__)


# A large event takes a while; a worker that dies mid-shred leaves the rest to the next attempt,
# which redoes nothing harmful (shredding is idempotent).
def shred_event(params: dict[str, Any]) -> None:
    """Run the shred job ``params["job_id"]`` (queued by :func:`boxoffice.books.shred.start_shred`)."""
    try:
        run_shred_job(int(params["job_id"]))
    except DomainError as exc:
        # Refused when it came to run (a refund was opened, the event moved): the job says why, and
        # trying again would not change that — the organizer starts a new shred when it is settled.
        log.warning("shred job %s refused: %s", params["job_id"], exc.detail)


SHRED_EVENT = Task(JOB_KIND, shred_event, lease=timedelta(hours=2), max_attempts=5)
