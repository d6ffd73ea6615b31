from datetime import UTC, datetime
from decimal import Decimal

import pytest

from boxoffice.errors import IllegalTransition
from boxoffice.orders.rules import ORDER_MOVES, expiry_deadline, order_total, quota_demand


def test_canceled_orders_never_move_again() -> None:
    for target in ("pending", "paid", "expired"):
        with pytest.raises(IllegalTransition, match="'canceled'"):
            ORDER_MOVES.check("canceled", target)


def test_paid_orders_do_not_expire() -> None:
    assert not ORDER_MOVES.can("paid", "expired")
    assert ORDER_MOVES.can("expired", "paid")


def test_deadline_in_minutes_days_weekends_and_last_date() -> None:
    friday = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert expiry_deadline(friday, minutes=30) == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert expiry_deadline(friday, days=1) == datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC)
    assert expiry_deadline(friday, days=1, skip_weekends=True) == datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC)
    last = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert expiry_deadline(friday, days=5, last_date=last) == last


def test_totals_and_quota_demand() -> None:
    assert order_total([Decimal("49.00"), Decimal("19.00")], [Decimal("1.50")]) == Decimal("69.50")
    assert quota_demand([(1, [10, 11]), (1, [10, 11]), (2, [10])]) == {10: 3, 11: 2}
