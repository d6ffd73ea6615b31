"""Dramatiq on Redis: one actor that runs an outbox job by id.

The message carries only the job's id; the row holds everything else, so a lost, repeated or
late message is harmless (the claim decides who runs it). Dramatiq's own retries are off: the
outbox retries with its own backoff and keeps the count in the database, where operators see it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from boxoffice.config import get_settings
from boxoffice.outbox import runner

QUEUE = "boxoffice"
ACTOR = "boxoffice.run-job"
# A backstop that frees a worker thread stuck in a hung task; every task's lease is shorter, so the
# sweep has long handed such a job to another worker by then.
TIME_LIMIT_MS = 6 * 60 * 60 * 1000


def run_job_message(job_id: int) -> None:
    runner.run_job(job_id)


def namespace_for(database_url: str) -> str:
    """The Redis key prefix of one deployment, derived from its database.

    A message names a job by its id in *one* database; two deployments sharing a Redis (staging and
    production, parallel test runs) must never run each other's ids. Should the prefix change with
    the database URL, the messages left under the old one are sent again by the sweep.
    """
    return "boxoffice-" + hashlib.sha256(database_url.encode()).hexdigest()[:12]


def make_broker(url: str, *, namespace: str) -> RedisBroker:
    """A Redis broker for ``url`` (keys prefixed with ``namespace``) with the job actor declared on it."""
    broker = RedisBroker(url=url, namespace=namespace)
    dramatiq.Actor(
        run_job_message,
        broker=broker,
        actor_name=ACTOR,
        queue_name=QUEUE,
        priority=0,
        options={"max_retries": 0, "time_limit": TIME_LIMIT_MS},
    )
    return broker


_brokers: dict[str, RedisBroker] = {}
_lock = threading.Lock()


def get_broker(url: str) -> RedisBroker:
    """The process's broker for ``url`` (made once, also set as Dramatiq's global broker)."""
    with _lock:
        broker = _brokers.get(url)
        if broker is None:
            broker = _brokers[url] = make_broker(url, namespace=namespace_for(get_settings().database_url))
            dramatiq.set_broker(broker)
        return broker


class DramatiqDispatcher:
    """Sends one Dramatiq message per committed job."""

    sends_after_commit = True

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.actor = broker.get_actor(ACTOR)

    def send(self, job_ids: Sequence[int]) -> None:
        for job_id in job_ids:
            self.actor.send(job_id)
