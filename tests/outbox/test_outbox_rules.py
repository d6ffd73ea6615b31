"""Timing rules of the outbox: retry backoff and schedule slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.outbox.rules import RETRY_CAP, retry_delay, slot_start


def test_retries_back_off_by_doubling_from_15_seconds_up_to_an_hour() -> None:
    delays = [retry_delay(n).total_seconds() for n in range(1, 11)]
    assert delays == [15, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay(10_000) == RETRY_CAP


def test_attempts_are_counted_from_one() -> None:
    with pytest.raises(ValueError):
        retry_delay(0)


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
lengths = st.integers(min_value=1, max_value=86_400).map(lambda s: timedelta(seconds=s))


@given(moment=moments, every=lengths)
def test_a_moment_lies_in_the_slot_that_starts_at_its_slot_start(moment: datetime, every: timedelta) -> None:
    start = slot_start(moment, every)
    assert start <= moment < start + every
    assert start.tzinfo is not None


@given(moment=moments, every=lengths, offset=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_every_moment_of_a_slot_names_the_same_slot(moment: datetime, every: timedelta, offset: float) -> None:
    start = slot_start(moment, every)
    inside = start + timedelta(seconds=int(offset * every.total_seconds()))
    assert slot_start(inside, every) == start
    assert slot_start(start + every, every) == start + every


def test_a_slot_shorter_than_a_second_is_refused() -> None:
    with pytest.raises(ValueError):
        slot_start(datetime.now(UTC), timedelta(milliseconds=10))
