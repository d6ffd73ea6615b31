"""Timing rules of the outbox as plain functions: retry backoff and schedule slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

RETRY_BASE = timedelta(seconds=15)
RETRY_CAP = timedelta(hours=1)


def retry_delay(attempt: int) -> timedelta:
    """How long a job waits after its ``attempt``-th run failed: 15 s, 30 s, 1 min, … capped at 1 h."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    # 2**12 * 15 s is already past the cap; stop doubling there so huge counts stay cheap.
    return min(RETRY_BASE * 2 ** min(attempt - 1, 12), RETRY_CAP)


def slot_start(moment: datetime, every: timedelta) -> datetime:
    """The start of the slot of length ``every`` that ``moment`` falls in (slots count from the epoch).

    Every worker computes the same slot for the same moment, whatever its start time; the slot is
    what a worker claims so a periodic task runs once per slot across all of them.
    """
    seconds = int(every.total_seconds())
    if seconds < 1:
        raise ValueError("a schedule slot is at least one second long")
    stamp = int(moment.timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)
