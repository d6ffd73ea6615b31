"""Paying an order: begin (write-ahead) then execute; provider checks, fees, switching method."""

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.errors import Conflict, InvalidValue, PaymentDeclined
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments.checkout import begin_payment, execute_payment, pay
from boxoffice.payments.models import Payment
from boxoffice.payments.rules import IN_FLIGHT
from boxoffice.providers.base import PaymentResult, ProviderUnavailable
from boxoffice.providers.manual import ManualProvider
from boxoffice.providers.sandbox.provider import SandboxProvider
from conftest import make_shop

D = Decimal
CARD = {"sandbox": "4242424242424242"}


def _order(uow: Any, event_id: int, product_id: int, qty: int = 1) -> int:
    with uow() as s:
        return orders.place_order(
            s, event_id, email="b@example.org", items=[LineItem(product_id, qty)], actor="buyer"
        ).id


def _shop(uow: Any, **providers: dict[str, Any]) -> Any:
    with uow() as s:
        return make_shop(s, providers=providers or None)


def _payments(uow: Any, order_id: int) -> list[tuple[str, str, Decimal]]:
    with uow() as s:
        rows = s.scalars(select(Payment).where(Payment.order_id == order_id).order_by(Payment.local_id))
        return [(p.provider, p.state, p.amount) for p in rows]


def _actions(uow: Any, order_id: int) -> list[str]:
    with uow() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.order_id == order_id).order_by(AuditEntry.id)))


def test_the_attempt_is_committed_before_the_provider_is_asked(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    with uow() as s:
        payment = begin_payment(s, order_id, provider="sandbox", actor="buyer", form_data=CARD)
        payment_id, full_id = payment.id, payment.full_id
    assert _payments(uow, order_id) == [("sandbox", "created", D("49.00"))]
    with uow() as s:
        outcome = execute_payment(s, payment_id, actor="buyer")
    assert outcome.state == "confirmed" and outcome.redirect_url is None
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "paid" and order.payment_mode == "sandbox"
    actions = _actions(uow, order_id)
    assert actions.index("payment.created") < actions.index("payment.sent") < actions.index("payment.confirmed")
    assert full_id.endswith("-P-1")


def test_executing_an_attempt_twice_sends_it_once(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    with uow() as s:
        payment_id = begin_payment(s, order_id, provider="manual", actor="buyer").id
    with uow() as s:
        first = execute_payment(s, payment_id, actor="buyer")
    with uow() as s:
        second = execute_payment(s, payment_id, actor="buyer")
    assert first == second and first.state == "pending"
    assert _actions(uow, order_id).count("payment.sent") == 1


def test_a_decline_is_committed_as_a_failed_attempt_before_it_is_raised(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    with pytest.raises(PaymentDeclined, match=r"Your card was declined\.") as caught:
        pay(order_id, provider="sandbox", actor="buyer", form_data={"sandbox": "4000000000000002"}, uow=uow)
    assert caught.value.status == 422
    assert _payments(uow, order_id) == [("sandbox", "failed", D("49.00"))]
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "pending" and order.payment_state == "unpaid"
    # A failed attempt is closed: the buyer simply tries again.
    assert pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow).state == "confirmed"


def test_a_provider_that_is_not_enabled_or_not_installed_is_refused(uow) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow, manual={"enabled": True})
    order_id = _order(uow, shop.event_id, shop.regular_id)
    for provider, code in (("sandbox", "provider-not-enabled"), ("nope", "unknown-provider")):
        with pytest.raises(InvalidValue) as caught, uow() as s:
            begin_payment(s, order_id, provider=provider, actor="buyer", form_data=CARD)
        assert caught.value.code == code and caught.value.pointer == "/data/attributes/provider"
    assert _payments(uow, order_id) == []


def test_a_provider_outside_its_limits_is_not_allowed(uow) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow, sandbox={"enabled": True, "max-total": "40.00"})
    order_id = _order(uow, shop.event_id, shop.regular_id)
    with pytest.raises(InvalidValue) as caught, uow() as s:
        begin_payment(s, order_id, provider="sandbox", actor="buyer", form_data=CARD)
    assert caught.value.code == "provider-not-allowed"


def test_a_form_error_points_at_the_attribute_and_writes_nothing(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    pay(order_id, provider="manual", actor="buyer", uow=uow)
    for form, detail in (({}, "Enter the card number"), ({"sandbox": "4242424242424241"}, "incorrect")):
        with pytest.raises(InvalidValue, match=detail) as caught, uow() as s:
            begin_payment(s, order_id, provider="sandbox", actor="buyer", form_data=form)
        assert caught.value.pointer == "/data/attributes/sandbox"
    # The open manual attempt was not given up for a typo.
    assert _payments(uow, order_id) == [("manual", "pending", D("49.00"))]


def test_the_chosen_providers_fee_becomes_the_orders_payment_fee(uow) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow, manual={"enabled": True}, sandbox={"enabled": True, "fee-abs": "0.50", "fee-percent": "2"})
    order_id = _order(uow, shop.event_id, shop.regular_id)
    waiting = pay(order_id, provider="sandbox", actor="buyer", form_data={"sandbox": "4000000000003220"}, uow=uow)
    with uow() as s:
        assert s.get(Payment, waiting.payment_id).amount == D("50.48")  # 49.00 + 0.50 + 2 % of 49.00
    outcome = pay(order_id, provider="manual", actor="buyer", uow=uow)
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.total == D("49.00") and [f.value for f in order.live_fees] == []
        assert order.payment_mode == "manual"
        assert s.get(Payment, outcome.payment_id).amount == D("49.00")
    assert _actions(uow, order_id).count("order.payment-method") == 2


def test_switching_method_cancels_an_open_attempt_when_its_provider_allows(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    pending = pay(order_id, provider="sandbox", actor="buyer", form_data={"sandbox": "4000000000003220"}, uow=uow)
    assert pending.state == "pending" and pending.redirect_url and "/sandbox/confirm/" in pending.redirect_url
    assert pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow).state == "confirmed"
    assert _payments(uow, order_id) == [("sandbox", "canceled", D("49.00")), ("sandbox", "confirmed", D("49.00"))]


def test_an_open_attempt_blocks_a_new_one_when_its_provider_does_not_allow_aborting(
    uow, shop, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ManualProvider, "abort_pending_allowed", False)
    order_id = _order(uow, shop.event_id, shop.regular_id)
    pay(order_id, provider="manual", actor="buyer", uow=uow)
    with pytest.raises(Conflict) as caught:
        pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert caught.value.code == "payment-pending" and caught.value.status == 409
    assert _payments(uow, order_id) == [("manual", "pending", D("49.00"))]


def test_an_unreachable_provider_leaves_the_attempt_pending_never_failed(
    uow, shop, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    def unreachable(self: SandboxProvider, payment: Payment) -> PaymentResult:
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(SandboxProvider, "execute_payment", unreachable)
    order_id = _order(uow, shop.event_id, shop.regular_id)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert outcome.state == "pending" and "timed out" in (outcome.message or "")


def test_a_partial_amount_leaves_the_rest_to_pay(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    pay(order_id, provider="sandbox", actor="buyer", amount=D("20.00"), form_data=CARD, uow=uow)
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.payment_state == "partially-paid" and order.pending_sum == D("29.00")
    pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    with uow() as s:
        assert s.get(Order, order_id).status == "paid"


def test_the_organizer_records_money_on_a_settled_order(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    with pytest.raises(Conflict), uow() as s:
        begin_payment(s, order_id, provider="manual", actor="buyer", amount=D("5.00"))
    with uow() as s:
        payment = begin_payment(s, order_id, provider="manual", actor="user:1", amount=D("5.00"), allow_settled=True)
        assert payment.state == "created"


def test_an_attempt_another_request_is_sending_is_not_given_up_but_answered_409(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    with uow() as s:
        begin_payment(s, order_id, provider="sandbox", actor="buyer", form_data=CARD)
    with pytest.raises(Conflict) as caught:
        pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert (caught.value.code, caught.value.status) == ("payment-in-progress", 409)
    assert _payments(uow, order_id) == [("sandbox", "created", D("49.00"))]


def test_an_attempt_left_created_by_a_request_that_died_is_given_up_after_a_while(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    with uow() as s:
        stuck = begin_payment(s, order_id, provider="sandbox", actor="buyer", form_data=CARD)
        stuck.created_at -= IN_FLIGHT
    assert pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow).state == "confirmed"
    assert _payments(uow, order_id) == [("sandbox", "canceled", D("49.00")), ("sandbox", "confirmed", D("49.00"))]


def test_paying_an_order_that_was_just_paid_is_409_not_a_bad_amount(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop.event_id, shop.regular_id)
    pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    with pytest.raises(Conflict) as caught:
        pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert (caught.value.code, caught.value.status) == ("order-paid", 409)
