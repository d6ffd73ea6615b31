"""The short per-process memo: fresh answers are repeated, stale ones forgotten, the oldest dropped."""

from __future__ import annotations

import pytest

from boxoffice.kit import memo as memo_module
from boxoffice.kit.memo import Memo, forget_all


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(memo_module.time, "monotonic", lambda: now[0])
    return now


def test_a_value_is_repeated_while_fresh_and_forgotten_once_its_time_is_up(clock: list[float]) -> None:
    remembered: Memo[str, int] = Memo(seconds=1.0)
    remembered.put("sold-out", 7)
    clock[0] += 0.99
    assert remembered.get("sold-out") == 7
    clock[0] += 0.02
    assert remembered.get("sold-out") is None


def test_the_oldest_entries_make_room_beyond_the_size(clock: list[float]) -> None:
    remembered: Memo[int, int] = Memo(seconds=60, size=2)
    for key in (1, 2, 3):
        remembered.put(key, key)
    assert [remembered.get(key) for key in (1, 2, 3)] == [None, 2, 3]


def test_forget_all_empties_every_memo_of_the_process(clock: list[float]) -> None:
    first: Memo[int, int] = Memo(seconds=60)
    second: Memo[int, int] = Memo(seconds=60)
    first.put(1, 1)
    second.put(2, 2)
    forget_all()
    assert first.get(1) is None and second.get(2) is None
