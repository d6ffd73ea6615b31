"""Payment fees follow the amount they are computed on, as in pretix: a fee not paid yet is
recomputed whenever what is left to pay changes; a fee paid with its attempt stays as it was paid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boxoffice.orders import service as orders
from boxoffice.orders.changes import OrderChange, change_order
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import pay
from boxoffice.payments.models import Payment
from conftest import make_shop

D = Decimal
CARD = {"sandbox": "4242424242424242"}
TEN_PERCENT = {"enabled": True, "fee-percent": "10"}
FIVE_PERCENT = {"enabled": True, "fee-percent": "5"}


def _shop(uow: Any) -> Any:
    with uow() as s:
        return make_shop(s, providers={"manual": TEN_PERCENT, "sandbox": FIVE_PERCENT})


def _order(uow: Any, shop: Any, quantity: int = 1) -> int:
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, quantity)], actor="buyer"
        ).id


def _fees(uow: Any, order_id: int) -> tuple[Decimal, list[Decimal]]:
    with uow() as s:
        order = s.get(Order, order_id)
        return order.total, [f.value for f in order.live_fees]


def test_a_fee_not_paid_yet_grows_with_the_order(uow: Any) -> None:
    shop = _shop(uow)
    order_id = _order(uow, shop)
    waiting = pay(order_id, provider="manual", actor="buyer", uow=uow)
    assert _fees(uow, order_id) == (D("53.90"), [D("4.90")])
    with uow() as s:
        change_order(s, order_id, OrderChange(add=[LineItem(shop.regular_id, 1)]), actor="user:admin")
    assert _fees(uow, order_id) == (D("107.80"), [D("9.80")])
    with uow() as s:
        # Still the waiting transfer's fee: confirming the transfer pays it.
        order = s.get(Order, order_id)
        assert [f.payment_id for f in order.live_fees] == [waiting.payment_id]


def test_paying_the_rest_with_another_provider_adds_its_fee_on_the_rest(uow: Any) -> None:
    shop = _shop(uow)
    order_id = _order(uow, shop, quantity=2)
    with uow() as s:
        part = payments.start_payment(s, order_id, provider="manual", actor="user:staff", amount=D("49.00"))
        payments.confirm_payment(s, part.id, actor="user:staff")
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert _fees(uow, order_id) == (D("100.45"), [D("2.45")])
    with uow() as s:
        assert s.get(Payment, outcome.payment_id).amount == D("51.45")
        assert s.get(Order, order_id).status == "paid"


def test_a_fee_paid_with_its_attempt_stays_and_the_rest_gets_its_own(uow: Any) -> None:
    shop = _shop(uow)
    order_id = _order(uow, shop)
    pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert _fees(uow, order_id) == (D("51.45"), [D("2.45")])
    with uow() as s:
        change_order(s, order_id, OrderChange(add=[LineItem(shop.regular_id, 1)]), actor="user:admin")
    assert _fees(uow, order_id) == (D("102.90"), [D("2.45"), D("2.45")])
    with uow() as s:
        order = s.get(Order, order_id)
        assert (order.status, order.pending_sum) == ("pending", D("51.45"))
    pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    with uow() as s:
        assert s.get(Order, order_id).status == "paid"


def test_switching_before_paying_replaces_the_fee(uow: Any) -> None:
    shop = _shop(uow)
    order_id = _order(uow, shop)
    pay(order_id, provider="manual", actor="buyer", uow=uow)
    assert _fees(uow, order_id) == (D("53.90"), [D("4.90")])
    pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert _fees(uow, order_id) == (D("51.45"), [D("2.45")])


def test_a_smaller_order_lowers_the_fee_not_paid_yet(uow: Any) -> None:
    shop = _shop(uow)
    order_id = _order(uow, shop, quantity=2)
    pay(order_id, provider="manual", actor="buyer", uow=uow)
    with uow() as s:
        first = s.get(Order, order_id).live_positions[0].id
        change_order(s, order_id, OrderChange(remove=[first]), actor="user:admin")
    assert _fees(uow, order_id) == (D("53.90"), [D("4.90")])
