"""The inbox's job: apply one stored provider event after the callback was answered."""

from __future__ import annotations

from typing import Any

from boxoffice.inbox.service import process_event
from boxoffice.outbox.tasks import Task

PROCESS = "inbox.process"


def process(params: dict[str, Any]) -> None:
    # Never raises for a provider's trouble: the event keeps its own attempts and the sweep retries it.
    process_event(int(params["event_id"]))


PROCESS_TASK = Task(PROCESS, process, max_attempts=3)
