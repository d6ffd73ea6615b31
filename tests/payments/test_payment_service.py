from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.errors import Conflict, IllegalTransition, InvalidValue, NotFound
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import ConfirmOutcome
from conftest import make_shop

D = Decimal


def _order(uow, shop, qty=1):  # type: ignore[no-untyped-def]
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, qty)], actor="buyer"
        ).id


def _paid_payment(uow, order_id, amount=None, provider="manual"):  # type: ignore[no-untyped-def]
    with uow() as s:
        p = payments.start_payment(
            s, order_id, provider=provider, actor="user:admin", amount=amount, allow_settled=True
        )
        payments.confirm_payment(s, p.id, actor="user:admin")
        return p.id


def _actions(uow, order_id):  # type: ignore[no-untyped-def]
    with uow() as s:
        return [
            a.action
            for a in s.scalars(select(AuditEntry).where(AuditEntry.order_id == order_id).order_by(AuditEntry.id))
        ]


def test_confirming_the_full_amount_marks_the_order_paid_and_is_idempotent(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    with uow() as s:
        payment = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        assert payment.amount == D("49.00") and payment.state == "created" and payment.local_id == 1
        first = payments.confirm_payment(s, payment.id, actor="provider:manual")
        assert first.outcome == ConfirmOutcome.ORDER_PAID
    with uow() as s:
        again = payments.confirm_payment(s, payment.id, actor="provider:manual")
        assert again.outcome == ConfirmOutcome.ALREADY_CONFIRMED
        assert again.order.status == "paid" and again.order.payment_state == "paid" and again.order.pending_sum == 0
    assert _actions(uow, order_id).count("order.paid") == 1


def test_partial_payments_add_up_to_paid(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    _paid_payment(uow, order_id, D("20.00"))
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "pending" and order.payment_state == "partially-paid" and order.pending_sum == D("29.00")
        second = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        assert second.amount == D("29.00") and second.local_id == 2
        assert payments.confirm_payment(s, second.id, actor="x").outcome == ConfirmOutcome.ORDER_PAID


def test_confirming_on_a_paid_order_records_an_overpayment(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    _paid_payment(uow, order_id)
    _paid_payment(uow, order_id, D("10.00"))
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.payment_state == "overpaid" and order.pending_sum == D("-10.00")
    assert "order.overpaid" in _actions(uow, order_id)


def test_late_payment_with_quota_gone_stays_confirmed_and_order_unpaid(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=1)
    late = _order(uow, shop)
    with uow() as s:
        pay = payments.start_payment(s, late, provider="banktransfer", actor="buyer")
        s.get(Order, late).expires_at = now() - timedelta(seconds=1)
    with uow() as s:
        orders.expire_order(s, late)
    _order(uow, shop)  # someone else takes the last seat
    with uow() as s:
        result = payments.confirm_payment(s, pay.id, actor="provider:banktransfer")
        assert result.outcome == ConfirmOutcome.QUOTA_EXCEEDED
        assert result.payment.state == "confirmed"
        assert result.order.status == "expired" and result.order.payment_state == "pending-fully-paid"
    assert "order.quota-exceeded" in _actions(uow, late)


def test_late_payment_with_quota_left_pays_the_expired_order(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    with uow() as s:
        pay = payments.start_payment(s, order_id, provider="banktransfer", actor="buyer")
        s.get(Order, order_id).expires_at = now() - timedelta(seconds=1)
    with uow() as s:
        orders.expire_order(s, order_id)
    with uow() as s:
        result = payments.confirm_payment(s, pay.id, actor="provider:banktransfer")
        assert result.outcome == ConfirmOutcome.LATE_ACCEPTED and result.order.status == "paid"
        assert result.order.holds_quota


def test_refunds_move_the_balance_and_mark_the_payment_refunded_when_complete(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    pay_id = _paid_payment(uow, order_id)
    with uow() as s:
        r1 = payments.create_refund(s, pay_id, amount=D("9.00"), actor="user:admin")
        order = s.get(Order, order_id)
        assert order.payment_state == "underpaid" and order.has_open_refund and order.pending_sum == D("9.00")
    with uow() as s:
        payments.mark_refund_done(s, r1.id, actor="user:admin")
        assert s.get(Payment, pay_id).state == "confirmed"
        assert s.get(Order, order_id).status == "paid"  # a refund never changes the order status
    with uow() as s:
        r2 = payments.create_refund(s, pay_id, amount=D("40.00"), actor="user:admin")
        payments.mark_refund_done(s, r2.id, actor="user:admin")
    with uow() as s:
        assert s.get(Payment, pay_id).state == "refunded"
        assert not s.get(Order, order_id).has_open_refund


def test_refund_above_what_was_paid_is_refused_and_nothing_changes(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    pay_id = _paid_payment(uow, order_id)
    with uow() as s:
        payments.create_refund(s, pay_id, amount=D("40.00"), actor="user:admin")
    with pytest.raises(InvalidValue, match="exceeds") as err, uow() as s:
        payments.create_refund(s, pay_id, amount=D("10.00"), actor="user:admin")
    assert err.value.code == "refund-exceeds-payment"
    with uow() as s:
        assert len(s.scalars(select(Refund)).all()) == 1


@pytest.mark.parametrize("amount", [D("-1"), D("0"), D("1.001")])
def test_negative_zero_or_over_precise_refunds_are_refused(uow, shop, amount) -> None:  # type: ignore[no-untyped-def]
    pay_id = _paid_payment(uow, _order(uow, shop))
    with pytest.raises(InvalidValue), uow() as s:
        payments.create_refund(s, pay_id, amount=amount, actor="user:admin")


def test_failed_refund_returns_a_refunded_payment_to_confirmed(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    pay_id = _paid_payment(uow, order_id)
    with uow() as s:
        r = payments.create_refund(s, pay_id, amount=D("49.00"), actor="user:admin")
        payments.set_refund_transit(s, r.id, actor="provider:sandbox")
        payments.mark_refund_failed(s, r.id, actor="provider:sandbox", message="account closed")
    with uow() as s:
        assert s.get(Payment, pay_id).state == "confirmed"
        assert s.get(Order, order_id).payment_state == "paid"


def test_illegal_transitions_raise_and_change_nothing(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    with uow() as s:
        p = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        payments.fail_payment(s, p.id, actor="provider:manual")
    with pytest.raises(IllegalTransition, match="'failed' to 'canceled'"), uow() as s:
        payments.cancel_payment(s, p.id, actor="buyer")
    with uow() as s:
        assert s.get(Payment, p.id).state == "failed"


def test_external_refund_waits_for_the_organizer_unless_it_settles_an_overpayment(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    pay_id = _paid_payment(uow, order_id)
    with uow() as s:
        waiting = payments.create_external_refund(
            s,
            order_id,
            amount=D("49.00"),
            actor="provider:stripe",
            provider="stripe",
            payment_id=pay_id,
            comment="dispute",
        )
        assert waiting.state == "external" and waiting.source == "external"
        assert s.get(Order, order_id).has_open_refund
    over = _paid_payment(uow, order_id, D("5.00"))
    with uow() as s:
        settled = payments.create_external_refund(
            s, order_id, amount=D("5.00"), actor="provider:stripe", provider="stripe", payment_id=over
        )
        assert settled.state == "done"
        assert s.get(Payment, over).state == "refunded"


def test_accepting_an_external_refund_can_return_the_order_to_pending(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    pay_id = _paid_payment(uow, order_id)
    with uow() as s:
        r = payments.create_external_refund(
            s, order_id, amount=D("49.00"), actor="provider:stripe", provider="stripe", payment_id=pay_id
        )
    with uow() as s:
        order = orders.accept_external_refund(s, r.id, actor="user:admin", then="pending")
        assert order.status == "pending" and order.pending_sum == D("49.00") and order.payment_state == "unpaid"


def test_payments_on_unknown_or_canceled_orders_are_refused(uow, shop) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound), uow() as s:
        payments.start_payment(s, 999, provider="manual", actor="buyer")
    order_id = _order(uow, shop)
    with uow() as s:
        orders.cancel_order(s, order_id, actor="user:admin")
    with pytest.raises(Conflict), uow() as s:
        payments.start_payment(s, order_id, provider="manual", actor="buyer")


def test_currencies_with_zero_and_three_decimals(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        jpy = make_shop(s, currency="JPY", regular="1500", student="500", slug="tokyo")
        kwd = make_shop(s, currency="KWD", regular="12.345", student="1.5", slug="kuwait")
    for shop, part, rest in ((jpy, D("1000"), D("500")), (kwd, D("10.005"), D("2.340"))):
        order_id = _order(uow, shop)
        _paid_payment(uow, order_id, part)
        with uow() as s:
            assert s.get(Order, order_id).pending_sum == rest
        _paid_payment(uow, order_id, rest)
        with uow() as s:
            assert s.get(Order, order_id).status == "paid"
    with pytest.raises(InvalidValue, match="more decimals"), uow() as s:
        payments.start_payment(s, _order(uow, jpy), provider="manual", actor="b", amount=D("0.5"))
