"""Canceling orders with their money (issue: changing and canceling orders)."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.errors import Conflict, PermissionDenied
from boxoffice.orders import service as orders
from boxoffice.orders.cancellation import FeeRule, buyer_cancel, cancel
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import checkout
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from conftest import make_shop

D = Decimal
CARD = {"sandbox": "4242424242424242"}


def _order(uow, shop, qty=2):  # type: ignore[no-untyped-def]
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, qty)], actor="buyer"
        ).id


def test_cancel_with_a_10_percent_fee_across_two_payments(uow, database_url, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)  # 98.00
    checkout.pay(order_id, provider="sandbox", actor="buyer", amount=D("60.00"), form_data=CARD)
    with uow() as s:
        manual = payments.start_payment(s, order_id, provider="manual", actor="user:admin")
        payments.confirm_payment(s, manual.id, actor="user:admin")
    result, refunds = cancel(order_id, actor="user:admin", fee_rule=FeeRule(percent=D("10")))
    assert result.fee == D("9.80")
    assert sum((r.amount for r in refunds), D(0)) == D("88.20")
    by_provider = {r.provider: r.state for r in refunds}
    assert by_provider["sandbox"] == "done"  # refunded automatically
    assert by_provider.get("manual", "created") == "created"  # waits for the organizer
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "canceled" and order.total == D("9.80")
        assert order.pending_sum == 0 and order.has_open_refund == ("manual" in by_provider)


def test_cancel_without_refund_leaves_money_owed_back_visible(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop, qty=1)
    checkout.pay(order_id, provider="sandbox", actor="buyer", form_data=CARD)
    result, refunds = cancel(order_id, actor="user:admin", refund=False)
    assert refunds == [] and result.refund_ids == []
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.payment_state == "underpaid" and order.pending_sum == D("-49.00")


def test_non_refundable_payment_fees_are_kept(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, providers={"sandbox": {"enabled": True, "fee-abs": "1.50"}})
        shop.event.settings = {"payment-fee-refundable": False}
    order_id = _order(uow, shop, qty=1)
    checkout.pay(order_id, provider="sandbox", actor="buyer", form_data=CARD)
    with uow() as s:
        assert s.get(Order, order_id).total == D("50.50")
    result, refunds = cancel(order_id, actor="user:admin")
    assert result.fee == D("1.50") and [r.amount for r in refunds] == [D("49.00")]


def test_canceling_twice_is_a_conflict_and_refunds_nothing_more(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop, qty=1)
    checkout.pay(order_id, provider="sandbox", actor="buyer", form_data=CARD)
    cancel(order_id, actor="user:admin")
    with pytest.raises(Conflict):
        cancel(order_id, actor="user:admin")
    with uow() as s:
        assert len(s.scalars(select(Refund)).all()) == 1


def test_buyer_may_cancel_an_unpaid_order_but_not_a_paid_one_by_default(uow, shop) -> None:  # type: ignore[no-untyped-def]
    unpaid = _order(uow, shop, qty=1)
    result, _ = buyer_cancel(unpaid, actor="buyer:X")
    assert result.fee == 0
    paid = _order(uow, shop, qty=1)
    checkout.pay(paid, provider="sandbox", actor="buyer", form_data=CARD)
    with pytest.raises(PermissionDenied, match="Paid orders"):
        buyer_cancel(paid, actor="buyer:X")
    with uow() as s:
        assert s.get(Order, paid).status == "paid"


def test_buyer_cancels_a_paid_order_with_the_events_fee(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        shop.event.settings = {"buyer-cancel-paid": True, "buyer-cancel-fee-abs": "5.00"}
    order_id = _order(uow, shop, qty=1)
    checkout.pay(order_id, provider="sandbox", actor="buyer", form_data=CARD)
    result, refunds = buyer_cancel(order_id, actor="buyer:X")
    assert result.fee == D("5.00") and [(r.amount, r.state, r.source) for r in refunds] == [
        (D("44.00"), "done", "buyer")
    ]
    with uow() as s:
        assert s.scalars(select(Payment.state)).one() == "confirmed"
