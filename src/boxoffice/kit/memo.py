"""A short memory, per process, of answers that may be a moment old.

For answers that are cheap to be briefly wrong about and costly to recompute under load — a
sold-out look in a ticket rush is the case: thousands of buyers ask the same question each second,
and the transaction that takes seats decides anyway. Entries live ``seconds`` and the memory holds at
most ``size`` of them, so a process stays small and every process stays interchangeable (nothing
here is shared or needs to be).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_every: list[Memo] = []  # memos are module constants: never freed


class Memo(Generic[K, V]):
    """Values remembered for ``seconds`` by key, the oldest dropped beyond ``size``; thread-safe."""

    def __init__(self, seconds: float, size: int = 1024) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        _every.append(self)

    def get(self, key: K) -> V | None:
        """The value remembered for ``key`` if it is still fresh, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: K, value: V) -> None:
        """Remember ``value`` for ``key`` from now on."""
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()


def forget_all() -> None:
    """Drop the entries of every memo of this process (tests call it between cases)."""
    for memo in _every:
        memo.forget()
