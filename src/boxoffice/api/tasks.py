"""Housekeeping of the HTTP layer: forget idempotency keys past their replay window and login
attempts that no longer count, and expired login sessions (hourly is plenty; the tables only grow
until then)."""

from __future__ import annotations

from typing import Any

from boxoffice.accounts.service import prune_sessions
from boxoffice.api import idempotency, ratelimit
from boxoffice.db import unit_of_work
from boxoffice.outbox.tasks import Task


def prune(params: dict[str, Any]) -> None:
    with unit_of_work() as session:
        idempotency.prune(session)
        ratelimit.prune(session)
        prune_sessions(session)


PRUNE = Task("api.prune", prune, max_attempts=3)
