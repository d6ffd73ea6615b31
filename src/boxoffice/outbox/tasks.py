"""The registry of tasks: plain functions a job names by a stable string.

    @task("mail.send")
    def send(params: dict[str, Any]) -> None:
        with unit_of_work() as session:
            ...

A task opens its own unit of work and must be safe to run more than once (delivery is at least
once: a worker can die after the work and before it records that the work is done).

A task that reads before it works and writes after may leave both to the runner, to save a
transaction on each side: ``prepare(session, params)`` runs in the unit of work that claims the job
(what it returns is what the task is called with), and the task may return a ``Finish`` that runs
in the unit of work recording the job done (the mail sender renders in the first and records the
sent mail in the second, with SMTP in between and no transaction open).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# What a task may leave to the unit of work that records it done.
Finish = Callable[[Session], None]
TaskFunction = Callable[[dict[str, Any]], Finish | None]
# Reads what the task needs in the claim's unit of work; the task is called with what it returns.
Prepare = Callable[[Session, dict[str, Any]], dict[str, Any]]

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
    prepare: Prepare | None = None


_registry: dict[str, Task] = {}
_loaded = False
_load_lock = threading.Lock()


def task(
    name: str,
    *,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    prepare: Prepare | None = None,
) -> Callable[[TaskFunction], TaskFunction]:
    """Register ``fn(params)`` as the task ``name`` (it returns None, or a :data:`Finish`).

    ``lease`` is how long a worker may hold the job before the sweep gives it to another worker;
    ``max_attempts`` how often a failing job is tried before it is left ``failed``; ``prepare`` see
    the module's docstring.
    """

    def register(fn: TaskFunction) -> TaskFunction:
        existing = _registry.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"task '{name}' is already registered by {existing.fn.__module__}")
        _registry[name] = Task(name, fn, lease, max_attempts, prepare)
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


def custom_leases() -> dict[str, timedelta]:
    """The tasks whose lease is not :data:`DEFAULT_LEASE`, by name."""
    load_task_modules()
    return {name: t.lease for name, t in _registry.items() if t.lease != DEFAULT_LEASE}


def get_task(name: str) -> Task | None:
    """The registered task ``name``, or None when no module of this process defines it."""
    task_ = _registry.get(name)
    if task_ is None:
        load_task_modules()
        task_ = _registry.get(name)
    return task_
