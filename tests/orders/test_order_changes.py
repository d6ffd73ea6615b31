from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.catalogue.models import Quota
from boxoffice.errors import Conflict, InvalidValue, QuotaExceeded
from boxoffice.orders import service as orders
from boxoffice.orders.changes import OrderChange, change_order
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from conftest import make_shop

D = Decimal


def _paid_order(uow, shop, qty=2):  # type: ignore[no-untyped-def]
    with uow() as s:
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, qty)], actor="buyer"
        )
        p = payments.start_payment(s, order.id, provider="manual", actor="buyer")
        payments.confirm_payment(s, p.id, actor="user:admin")
        return order.id, [pos.id for pos in order.positions]


def test_adding_a_position_to_a_paid_order_returns_it_to_pending_with_the_difference_owed(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, _ = _paid_order(uow, shop)
    with uow() as s:
        result = change_order(s, order_id, OrderChange(add=[LineItem(shop.student_id, 1)]), actor="user:admin")
        assert result.difference == D("19.00") and result.refund_proposal == []
        order = result.order
        assert order.status == "pending" and order.pending_sum == D("19.00") and order.payment_state == "partially-paid"
    with uow() as s:
        assert s.get(Quota, shop.quota_id).used == 3
        p = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        assert p.amount == D("19.00")
        payments.confirm_payment(s, p.id, actor="user:admin")
    with uow() as s:
        assert s.get(Order, order_id).status == "paid"


def test_keep_paid_policy_shows_underpaid_instead(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        shop.event.settings = {"change-underpaid-policy": "keep-paid"}
    order_id, _ = _paid_order(uow, shop)
    with uow() as s:
        order = change_order(s, order_id, OrderChange(add=[LineItem(shop.student_id, 1)]), actor="user:admin").order
        assert order.status == "paid" and order.payment_state == "underpaid"


def test_removing_a_position_proposes_a_refund_of_the_difference(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, positions = _paid_order(uow, shop)
    with uow() as s:
        result = change_order(s, order_id, OrderChange(remove=[positions[0]]), actor="user:admin")
        assert result.order.status == "paid" and result.order.payment_state == "overpaid"
        assert [amount for _, amount in result.refund_proposal] == [D("49.00")]
    with uow() as s:
        assert s.get(Quota, shop.quota_id).used == 1
        changed = s.scalars(select(AuditEntry).where(AuditEntry.action == "order.changed")).one()
        assert changed.data["before"]["total"] == "98.000" or changed.data["before"]["total"].startswith("98")
        assert len(changed.data["after"]["positions"]) == 1


def test_price_and_product_changes_apply_together(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, positions = _paid_order(uow, shop)
    change = OrderChange(set_price=[(positions[0], D("39.00"))], set_product=[(positions[1], shop.student_id)])
    with uow() as s:
        result = change_order(s, order_id, change, actor="user:admin")
        assert result.total_after == D("58.00") and result.order.pending_sum == D("-40.00")
        assert sorted(p.price for p in result.order.live_positions) == [D("19.00"), D("39.00")]
    with uow() as s:
        assert s.get(Quota, shop.quota_id).used == 2  # the seat moved between products of one quota


@pytest.mark.parametrize(
    ("make_change", "error", "pointer"),
    [
        (lambda pos, shop: OrderChange(remove=pos), InvalidValue, "/data/attributes/remove"),
        (
            lambda pos, shop: OrderChange(set_price=[(pos[0], D("-1"))]),
            InvalidValue,
            "/data/attributes/set-price/0/price",
        ),
        (
            lambda pos, shop: OrderChange(set_price=[(pos[0], D("1.001"))]),
            InvalidValue,
            "/data/attributes/set-price/0/price",
        ),
        (lambda pos, shop: OrderChange(remove=[999]), InvalidValue, "/data/attributes/remove/0"),
        (lambda pos, shop: OrderChange(add=[LineItem(999, 1)]), InvalidValue, "/data/attributes/add/0/product"),
        (lambda pos, shop: OrderChange(), InvalidValue, "/data/attributes"),
    ],
)
def test_bad_changes_are_refused_and_nothing_changes(uow, shop, make_change, error, pointer) -> None:  # type: ignore[no-untyped-def]
    order_id, positions = _paid_order(uow, shop)
    with pytest.raises(error) as err, uow() as s:
        change_order(s, order_id, make_change(positions, shop), actor="user:admin")
    assert err.value.pointer == pointer
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.total == D("98.00") and len(order.live_positions) == 2 and order.status == "paid"
        assert s.get(Quota, shop.quota_id).used == 2


def test_a_change_beyond_the_quota_is_refused_whole(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=3)
    order_id, positions = _paid_order(uow, shop)
    with pytest.raises(QuotaExceeded), uow() as s:
        change_order(
            s,
            order_id,
            OrderChange(add=[LineItem(shop.student_id, 2)], set_price=[(positions[0], D("1"))]),
            actor="user:admin",
        )
    with uow() as s:
        assert s.get(Quota, shop.quota_id).used == 2
        assert s.get(Order, order_id).total == D("98.00")


def test_canceled_orders_do_not_change(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, _ = _paid_order(uow, shop)
    with uow() as s:
        orders.cancel_order(s, order_id, actor="user:admin")
    with pytest.raises(Conflict), uow() as s:
        change_order(s, order_id, OrderChange(add=[LineItem(shop.student_id, 1)]), actor="user:admin")
