"""The one place that tells the time, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime

_offset_seconds: float = 0.0


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    current = datetime.now(UTC)
    if _offset_seconds:
        from datetime import timedelta

        current += timedelta(seconds=_offset_seconds)
    return current


def travel(seconds: float) -> None:
    """Move the clock forward (tests only); ``travel(0)`` returns to the real time."""
    global _offset_seconds
    _offset_seconds = seconds if seconds == 0 else _offset_seconds + seconds
