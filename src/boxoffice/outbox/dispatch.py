"""Where committed jobs go: the process's dispatcher.

* with ``BOXOFFICE_REDIS_URL`` — :class:`boxoffice.outbox.broker.DramatiqDispatcher` (a message per job);
* inside ``boxoffice serve`` without Redis — the embedded runner's threads
  (:class:`boxoffice.outbox.embedded.EmbeddedRunner` installs itself while it runs);
* otherwise :class:`Deferred`: the row waits in the database until a runner's sweep sends it;
* tests and one-off commands may install :class:`Synchronous`, which runs jobs at once in the caller.

The embedded runner and :class:`Synchronous` run jobs in this process (:class:`RunsHere`): the jobs
they will run are written already claimed, and handed to them as claims after commit.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from boxoffice.config import get_settings

if TYPE_CHECKING:
    from boxoffice.outbox.runner import Claim

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    # Whether a job handed over after commit reaches a runner; if not, the sweep sends it first.
    sends_after_commit: bool

    def send(self, job_ids: Sequence[int]) -> None:
        """Hand committed jobs to whoever runs them (must not raise for a job that cannot run)."""


@runtime_checkable
class RunsHere(Protocol):
    """A dispatcher that runs the jobs of this process itself, right after their commit."""

    def run_claimed(self, claims: Sequence[Claim]) -> None:
        """Run jobs written already claimed by this process (must not raise for a job that fails)."""


class Deferred:
    """Sends nothing: jobs wait for the sweep of a running worker or ``serve``."""

    sends_after_commit = False

    def send(self, job_ids: Sequence[int]) -> None:
        return None


class Synchronous:
    """Runs the jobs of a commit in the calling thread right after it, as one batch.

    Jobs queued while a batch runs are run after it, in order, rather than nested inside it.
    """

    sends_after_commit = True

    def __init__(self) -> None:
        self._local = threading.local()

    def send(self, job_ids: Sequence[int]) -> None:
        self._run(job_ids)

    def run_claimed(self, claims: Sequence[Claim]) -> None:
        self._run(claims)

    def _run(self, jobs: Sequence[int | Claim]) -> None:
        from boxoffice.outbox import runner

        backlog: deque[int | Claim] | None = getattr(self._local, "backlog", None)
        if backlog is not None:
            backlog.extend(jobs)
            return
        backlog = self._local.backlog = deque(jobs)
        try:
            while backlog:
                batch = list(backlog)
                backlog.clear()
                runner.run_batch(batch)
        finally:
            self._local.backlog = None


_current: Dispatcher | None = None
_lock = threading.Lock()


def current() -> Dispatcher:
    """The dispatcher of this process (chosen from the settings on first use)."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = _default()
    return _current


def install(dispatcher: Dispatcher | None) -> Dispatcher | None:
    """Make ``dispatcher`` the process's dispatcher (None: choose from the settings again); returns
    the one it replaces."""
    global _current
    with _lock:
        previous, _current = _current, dispatcher
    return previous


def _default() -> Dispatcher:
    url = get_settings().redis_url
    if url:
        from boxoffice.outbox.broker import DramatiqDispatcher, get_broker

        return DramatiqDispatcher(get_broker(url))
    return Deferred()
