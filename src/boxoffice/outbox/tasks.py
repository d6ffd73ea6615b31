"""The registry of tasks: plain functions a job names by a stable string.

    @task("mail.send")
    def send(params: dict[str, Any]) -> None:
        with unit_of_work() as session:
            ...

A task opens its own unit of work and must be safe to run more than once (delivery is at least
once: a worker can die after the work and before it records that the work is done).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

log = logging.getLogger(__name__)

TaskFunction = Callable[[dict[str, Any]], None]

DEFAULT_LEASE = timedelta(minutes=15)
DEFAULT_MAX_ATTEMPTS = 10

# Modules that define tasks; imported on first lookup, so every process (web, worker, CLI) knows them.
# A domain that adds tasks appends its module here.
TASK_MODULES: tuple[str, ...] = (
    "boxoffice.outbox.maintenance",
    "boxoffice.orders.expiry",
    "boxoffice.inbox.tasks",
    "boxoffice.payments.janitor",
    "boxoffice.mail.tasks",
    "boxoffice.webhooks.tasks",
    "boxoffice.orders.bulk",
    "boxoffice.api.tasks",
    "boxoffice.books.tasks",
    "boxoffice.providers.banktransfer.tasks",
)


@dataclass(frozen=True)
class Task:
    name: str
    fn: TaskFunction
    lease: timedelta
    max_attempts: int


_registry: dict[str, Task] = {}
_loaded = False
_load_lock = threading.Lock()


def task(
    name: str, *, lease: timedelta = DEFAULT_LEASE, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> Callable[[TaskFunction], TaskFunction]:
    """Register ``fn(params) -> None`` as the task ``name``.

    ``lease`` is how long a worker may hold the job before the sweep gives it to another worker;
    ``max_attempts`` how often a failing job is tried before it is left ``failed``.
    """

    def register(fn: TaskFunction) -> TaskFunction:
        existing = _registry.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"task '{name}' is already registered by {existing.fn.__module__}")
        _registry[name] = Task(name, fn, lease, max_attempts)
        return fn

    return register


def load_task_modules() -> None:
    """Import every module of :data:`TASK_MODULES` (once per process)."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if not _loaded:
            for module in TASK_MODULES:
                try:
                    importlib.import_module(module)
                except Exception:
                    # Its tasks stay unknown (queueing them fails loudly); every other task still runs.
                    log.exception("task module %s cannot be imported", module)
            _loaded = True


def get_task(name: str) -> Task | None:
    """The registered task ``name``, or None when no module of this process defines it."""
    task_ = _registry.get(name)
    if task_ is None:
        load_task_modules()
        task_ = _registry.get(name)
    return task_
