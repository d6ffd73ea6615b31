"""Per-event expiry policies read from the event's settings: reminders and late payments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.catalogue.policies import (
    DEFAULT_REMINDER_HOURS,
    MAX_REMINDER_HOURS,
    LatePaymentPolicy,
    check_settings,
    late_payment_policy,
    reminder_due,
    reminder_hours,
)
from boxoffice.errors import InvalidValue


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # Unset: paid while seats are left, else the organizer is asked (issue #13: the policies differ).
        ({}, LatePaymentPolicy.ACCEPT_IF_QUOTA),
        (None, LatePaymentPolicy.ACCEPT_IF_QUOTA),
        ({"late-payment-policy": "refund"}, LatePaymentPolicy.REFUND),
        ({"late-payment-policy": "accept-if-quota"}, LatePaymentPolicy.ACCEPT_IF_QUOTA),
        ({"late-payment-policy": "ask"}, LatePaymentPolicy.ASK),
        ({"late-payment-policy": "REFUND"}, LatePaymentPolicy.ASK),
        ({"late-payment-policy": None}, LatePaymentPolicy.ASK),
    ],
)
def test_an_unknown_late_payment_policy_reads_as_ask_which_moves_no_money(settings, expected) -> None:  # type: ignore[no-untyped-def]
    assert late_payment_policy(settings) is expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, DEFAULT_REMINDER_HOURS),
        ({"expiry-reminder-hours": 48}, 48),
        ({"expiry-reminder-hours": 0}, None),
        ({"expiry-reminder-hours": -3}, None),
        ({"expiry-reminder-hours": "12"}, None),
        ({"expiry-reminder-hours": True}, None),
        ({"expiry-reminder-hours": 10_000}, MAX_REMINDER_HOURS),
    ],
)
def test_reminder_hours_come_from_the_settings_and_zero_turns_them_off(settings, expected) -> None:  # type: ignore[no-untyped-def]
    assert reminder_hours(settings) == expected


PLACED = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def test_a_reminder_is_due_inside_the_window_before_the_deadline() -> None:
    expires = PLACED + timedelta(days=3)
    due = lambda moment: reminder_due(placed_at=PLACED, expires_at=expires, moment=moment, hours=24)  # noqa: E731
    assert not due(expires - timedelta(hours=24, seconds=1))
    assert due(expires - timedelta(hours=24))
    assert due(expires - timedelta(seconds=1))
    assert not due(expires)


def test_an_order_living_shorter_than_the_window_gets_no_reminder() -> None:
    expires = PLACED + timedelta(minutes=30)
    assert not reminder_due(placed_at=PLACED, expires_at=expires, moment=PLACED + timedelta(minutes=10), hours=1)


@given(
    life=st.integers(min_value=1, max_value=30 * 24 * 60),
    hours=st.integers(min_value=1, max_value=MAX_REMINDER_HOURS),
    at=st.integers(min_value=0, max_value=30 * 24 * 60),
)
def test_a_reminder_is_never_due_before_the_order_exists_or_after_it_expired(life: int, hours: int, at: int) -> None:
    expires = PLACED + timedelta(minutes=life)
    moment = PLACED + timedelta(minutes=at)
    if reminder_due(placed_at=PLACED, expires_at=expires, moment=moment, hours=hours):
        assert PLACED < moment < expires
        assert expires - moment <= timedelta(hours=hours)


def test_settings_the_policies_cannot_read_are_refused_with_a_pointer() -> None:
    check_settings({"expiry-reminder-hours": 12, "late-payment-policy": "refund", "expiry-minutes": 30})
    with pytest.raises(InvalidValue) as bad:
        check_settings({"expiry-reminder-hours": -1})
    assert bad.value.pointer == "/data/attributes/settings/expiry-reminder-hours"
    with pytest.raises(InvalidValue) as bad:
        check_settings({"late-payment-policy": "keep"})
    assert bad.value.pointer == "/data/attributes/settings/late-payment-policy"
