"""Tasks: plain functions a job names by a stable string, each declared as a :class:`Task` constant.

    def send(params: dict[str, Any]) -> None:
        with unit_of_work() as session:
            ...

    SEND = Task("mail.send", send)

A task opens its own unit of work and must be safe to run more than once (delivery is at least
once: a worker can die after the work and before it records that the work is done).

Where tasks are found: the built-in ones in :data:`boxoffice.tasks_registry.TASKS` (the one visible
list, loaded on first lookup), a third-party package's through the ``boxoffice.tasks`` entry-point
group (an entry point names a ``Task`` or a sequence of them; one that cannot be loaded is logged
and left out, every other task still runs).

A task that reads before it works and writes after may leave both to the runner, to save a
transaction on each side: ``prepare(session, params)`` runs in the unit of work that claims the job
(what it returns is what the task is called with), and the task may return a ``Finish`` that runs
in the unit of work recording the job done (the mail sender renders in the first and records the
sent mail in the second, with SMTP in between and no transaction open).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import EntryPoint, entry_points
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

GROUP = "boxoffice.tasks"


@dataclass(frozen=True)
class Task:
    """``fn(params)`` run as the job ``name`` (it returns None, or a :data:`Finish`).

    ``lease`` is how long a worker may hold the job before the sweep gives it to another worker;
    ``max_attempts`` how often a failing job is tried before it is left ``failed``; ``prepare`` see
    the module's docstring.
    """

    name: str
    fn: TaskFunction
    lease: timedelta = DEFAULT_LEASE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    prepare: Prepare | None = None


_registry: dict[str, Task] = {}
_loaded = False
_load_lock = threading.Lock()


def register(*tasks: Task) -> None:
    """Make ``tasks`` known in this process besides the registry and the entry points (tests use it)."""
    for task_ in tasks:
        existing = _registry.get(task_.name)
        if existing is not None and existing != task_:
            raise ValueError(f"task '{task_.name}' is already registered by {existing.fn.__module__}")
        _registry[task_.name] = task_


def load_tasks() -> None:
    """Know the built-in tasks and those of installed packages (once per process)."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if not _loaded:
            # The registry names every domain's tasks, so it sits above them: loaded here, on first use.
            from boxoffice.tasks_registry import TASKS

            register(*TASKS)
            for entry in entry_points(group=GROUP):
                _register_plugin(entry)
            _loaded = True


def _register_plugin(entry: EntryPoint) -> None:
    try:
        found = entry.load()
        tasks = (found,) if isinstance(found, Task) else tuple(found)
        if not all(isinstance(t, Task) for t in tasks):
            raise TypeError("it names neither a Task nor a sequence of Tasks")
        register(*tasks)
    except Exception:
        # Its tasks stay unknown (queueing them fails loudly); every other task still runs.
        log.exception("tasks %s = %s cannot be loaded", entry.name, entry.value)


def custom_leases() -> dict[str, timedelta]:
    """The tasks whose lease is not :data:`DEFAULT_LEASE`, by name."""
    load_tasks()
    return {name: t.lease for name, t in _registry.items() if t.lease != DEFAULT_LEASE}


def get_task(name: str) -> Task | None:
    """The task ``name``, or None when neither the registry nor an installed package declares it."""
    task_ = _registry.get(name)
    if task_ is None:
        load_tasks()
        task_ = _registry.get(name)
    return task_
