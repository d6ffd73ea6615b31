"""The janitor's schedule: asked 5 min, 1 h, 6 h, 1, 2 and 3 days after an attempt, then daily for a month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.payments.janitor_rules import (
    CHECK_AT,
    STOP_CHECKING_AFTER,
    UNRESOLVED_AFTER,
    is_unresolved,
    next_check,
)

MADE = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def test_an_attempt_checked_on_time_follows_the_schedule() -> None:
    moment, seen = MADE, []
    while (following := next_check(MADE, moment)) is not None and following - MADE <= UNRESOLVED_AFTER:
        seen.append(following - MADE)
        moment = following
    assert seen == list(CHECK_AT)


def test_after_the_schedule_it_is_asked_daily_and_left_after_thirty_days() -> None:
    assert next_check(MADE, MADE + timedelta(days=3)) == MADE + timedelta(days=4)
    assert next_check(MADE, MADE + timedelta(days=29)) == MADE + timedelta(days=30)
    assert next_check(MADE, MADE + timedelta(days=29, seconds=1)) is None


def test_a_late_check_is_not_followed_by_checks_in_the_past() -> None:
    assert next_check(MADE, MADE + timedelta(hours=7)) == MADE + timedelta(days=1)


@given(st.integers(min_value=0, max_value=40 * 24 * 3600))
def test_the_next_check_is_always_later_and_never_past_thirty_days(seconds: int) -> None:
    moment = MADE + timedelta(seconds=seconds)
    following = next_check(MADE, moment)
    if following is not None:
        assert following > moment and following - MADE <= STOP_CHECKING_AFTER


def test_an_attempt_is_unresolved_from_three_days_on() -> None:
    assert not is_unresolved(MADE, MADE + timedelta(days=3) - timedelta(seconds=1))
    assert is_unresolved(MADE, MADE + timedelta(days=3))
