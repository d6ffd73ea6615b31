from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from boxoffice.catalogue.models import Quota
from boxoffice.errors import Conflict, IllegalTransition, InvalidValue, NotFound, QuotaExceeded
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from conftest import make_shop

D = Decimal


def _place(uow, shop, regular=1, student=0, email="buyer@example.org"):  # type: ignore[no-untyped-def]
    items = [LineItem(shop.regular_id, regular)] if regular else []
    if student:
        items.append(LineItem(shop.student_id, student))
    with uow() as s:
        order = orders.place_order(s, shop.event_id, email=email, items=items, actor="buyer")
        return order.id


def _used(uow, quota_id):  # type: ignore[no-untyped-def]
    with uow() as s:
        return s.get(Quota, quota_id).used


def test_placing_an_order_reserves_quota_and_sets_a_pending_balance(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop, regular=2, student=1)
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "pending"
        assert order.total == D("117.00")
        assert order.pending_sum == D("117.00") and order.payment_state == "unpaid"
        assert len(order.code) == 5 and order.expires_at > now()
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.order_id == order_id))]
        assert actions == ["order.placed"]
    assert _used(uow, shop.quota_id) == 3


def test_a_code_the_event_gave_out_already_is_drawn_again_not_shared(uow, shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = _place(uow, shop)
    with uow() as s:
        taken = s.get(Order, first).code
    codes = iter([taken, taken, "ZZZZ9"])
    monkeypatch.setattr("boxoffice.orders.repository.new_order_code", lambda: next(codes))
    second = _place(uow, shop, email="other@example.org")
    with uow() as s:
        assert (s.get(Order, first).code, s.get(Order, first).email) == (taken, "buyer@example.org")
        placed = s.get(Order, second)
        assert (placed.code, placed.email, len(placed.positions)) == ("ZZZZ9", "other@example.org", 1)
    assert _used(uow, shop.quota_id) == 2


def test_sold_out_quota_refuses_the_order_and_changes_nothing(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=2)
    _place(uow, shop, regular=2)
    with pytest.raises(QuotaExceeded), uow() as s:
        orders.place_order(s, shop.event_id, email="x@example.org", items=[LineItem(shop.student_id, 1)], actor="buyer")
    with uow() as s:
        assert s.scalar(select(func.count(Order.id))) == 1
    assert _used(uow, shop.quota_id) == 2


@pytest.mark.parametrize(
    ("items", "pointer"),
    [
        ([], "/data/attributes/positions"),
        ([LineItem(999, 1)], "/data/attributes/positions/0/product"),
        ([LineItem(0, 0)], "/data/attributes/positions/0/quantity"),
    ],
)
def test_bad_positions_are_refused_with_a_pointer(uow, shop, items, pointer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue) as err, uow() as s:
        orders.place_order(s, shop.event_id, email="x@example.org", items=items, actor="buyer")
    assert err.value.pointer == pointer
    assert _used(uow, shop.quota_id) == 0


def test_unknown_event_is_not_found(uow, shop) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound), uow() as s:
        orders.place_order(s, 12345, email=None, items=[LineItem(shop.regular_id, 1)], actor="buyer")


def test_free_order_is_paid_at_once_through_the_free_provider(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, regular="0.00")
    order_id = _place(uow, shop)
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "paid" and order.payment_state == "free"
        assert [(p.provider, p.state) for p in order.payments] == [("free", "confirmed")]


def test_expiry_releases_quota_once_and_reactivation_takes_it_again(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop, regular=3)
    with uow() as s:
        assert orders.expire_order(s, order_id) is False  # not due yet
        s.get(Order, order_id).expires_at = now() - timedelta(seconds=1)
    with uow() as s:
        assert orders.expire_order(s, order_id) is True
    with uow() as s:
        assert orders.expire_order(s, order_id) is False
    assert _used(uow, shop.quota_id) == 0
    with uow() as s:
        order = orders.reactivate_order(s, order_id, actor="user:admin")
        assert order.status == "pending" and order.expires_at > now()
    assert _used(uow, shop.quota_id) == 3


def test_reactivation_is_refused_when_the_quota_is_gone(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=1)
    first = _place(uow, shop)
    with uow() as s:
        s.get(Order, first).expires_at = now() - timedelta(seconds=1)
    with uow() as s:
        orders.expire_order(s, first)
    _place(uow, shop)
    with pytest.raises(QuotaExceeded), uow() as s:
        orders.reactivate_order(s, first, actor="user:admin")
    with uow() as s:
        assert s.get(Order, first).status == "expired"


def test_cancel_with_a_fee_keeps_the_fee_as_total_and_shows_money_owed_back(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    with uow() as s:
        payment = payments.start_payment(s, order_id, provider="manual", actor="user:admin")
        payments.confirm_payment(s, payment.id, actor="user:admin")
    with uow() as s:
        order = orders.cancel_order(s, order_id, actor="user:admin", cancellation_fee=D("4.90"))
        assert order.status == "canceled" and order.total == D("4.90")
        assert order.pending_sum == D("-44.10") and order.payment_state == "underpaid"
    assert _used(uow, shop.quota_id) == 0
    with pytest.raises(Conflict), uow() as s:
        orders.cancel_order(s, order_id, actor="user:admin")


def test_cancellation_fee_above_the_total_is_refused(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    with pytest.raises(InvalidValue) as err, uow() as s:
        orders.cancel_order(s, order_id, actor="user:admin", cancellation_fee=D("50.00"))
    assert err.value.pointer == "/data/attributes/cancellation-fee"
    with uow() as s:
        assert s.get(Order, order_id).status == "pending"


def test_mark_paid_records_a_manual_payment_for_what_is_left(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    with uow() as s:
        p = payments.start_payment(s, order_id, provider="manual", actor="user:admin", amount=D("9.00"))
        payments.confirm_payment(s, p.id, actor="user:admin")
    with uow() as s:
        order = orders.mark_paid(s, order_id, actor="user:admin")
        assert order.status == "paid" and order.payment_state == "paid"
        assert [(p.amount, p.state) for p in order.payments] == [(D("9.000"), "confirmed"), (D("40.000"), "confirmed")]


def test_canceled_order_cannot_be_reactivated(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    with uow() as s:
        orders.cancel_order(s, order_id, actor="user:admin")
    with pytest.raises(IllegalTransition), uow() as s:
        orders.reactivate_order(s, order_id, actor="user:admin")
