"""The write-ahead helper commits what it wrote before anything is sent, and sends each item on its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from boxoffice.kit.writeahead import write_ahead


class Units:
    """Units of work that log when they open, commit and roll back."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.opened = 0

    @contextmanager
    def __call__(self) -> Iterator[int]:
        self.opened += 1
        number = self.opened
        self.log.append(f"open {number}")
        try:
            yield number
        except BaseException:
            self.log.append(f"rollback {number}")
            raise
        self.log.append(f"commit {number}")


def test_the_attempts_are_committed_before_the_first_is_sent_and_each_is_sent_in_its_own_unit() -> None:
    units = Units()

    def send(unit: int, item: str) -> str:
        units.log.append(f"send {item} in {unit}")
        return item.upper()

    assert write_ahead(units, lambda unit: ["r1", "r2"], send) == ["R1", "R2"]
    assert units.log == [
        "open 1", "commit 1",
        "open 2", "send r1 in 2", "commit 2",
        "open 3", "send r2 in 3", "commit 3",
    ]  # fmt: skip


def test_a_crash_while_sending_keeps_what_was_written() -> None:
    units = Units()

    def send(unit: int, item: str) -> None:
        raise RuntimeError("the provider's line went dead")

    with pytest.raises(RuntimeError):
        write_ahead(units, lambda unit: ["r1"], send)
    assert units.log == ["open 1", "commit 1", "open 2", "rollback 2"]


def test_nothing_written_means_nothing_sent() -> None:
    units = Units()
    assert write_ahead(units, lambda unit: [], lambda unit, item: item) == []
    assert units.log == ["open 1", "commit 1"]
