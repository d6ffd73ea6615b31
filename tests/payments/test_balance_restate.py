"""``restate_balance`` (the balance after a status change, without summing the attempts again)
always equals the balance summed from the attempts; when the total moved it sums them anyway."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from boxoffice.orders.service import LineItem, place_order
from boxoffice.payments import service as payments
from boxoffice.payments.balance import compute_balance, refresh_balance, restate_balance
from conftest import make_shop

STATUSES = ("pending", "paid", "expired", "canceled")


@pytest.mark.parametrize("paid", ["0.00", "50.00", "98.00", "120.00"])
def test_restated_balance_equals_the_summed_one_for_every_status(session: Session, paid: str) -> None:
    shop = make_shop(session)
    order = place_order(session, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 2)], actor="t")
    if Decimal(paid):
        payment = payments.start_payment(
            session, order.id, provider="manual", actor="t", amount=Decimal(paid), allow_settled=True
        )
        payments.confirm_payment(session, payment.id, actor="t")
    refund_payment = payments.start_payment(
        session, order.id, provider="manual", actor="t", amount=Decimal("10.00"), allow_settled=True
    )
    payments.confirm_payment(session, refund_payment.id, actor="t")
    payments.create_refund(session, refund_payment.id, amount=Decimal("4.00"), actor="t")
    before = refresh_balance(session, order)
    for status in STATUSES:
        order.status = status
        assert restate_balance(session, order, before) == compute_balance(session, order)


def test_a_moved_total_is_summed_again(session: Session) -> None:
    shop = make_shop(session)
    order = place_order(session, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="t")
    before = refresh_balance(session, order)
    order.total = Decimal("10.00")
    restated = restate_balance(session, order, before)
    assert restated == compute_balance(session, order)
    assert restated.pending_sum == Decimal("10.00")
