"""Giving money back: the proposal, automatic and manual refunds, marking refunded, refusals."""

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.errors import Conflict, InvalidValue
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import pay
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.refunding import (
    RefundDeclined,
    give_back,
    process_refund,
    propose,
    refund_now,
    refund_order,
    refund_payment,
)
from boxoffice.providers.base import ProviderUnavailable, RefundResult
from boxoffice.providers.sandbox import processor
from boxoffice.providers.sandbox.provider import SandboxProvider

D = Decimal
CARD = {"sandbox": "4242424242424242"}


def _order(uow: Any, shop: Any, qty: int = 2) -> int:
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, qty)], actor="buyer"
        ).id


def _paid_by_card_and_cash(uow: Any, shop: Any) -> tuple[int, int, int]:
    """An order of 98.00: 60.00 by sandbox card, 38.00 in cash (manual, confirmed by the organizer)."""
    order_id = _order(uow, shop)
    card = pay(order_id, provider="sandbox", actor="buyer", amount=D("60.00"), form_data=CARD, uow=uow).payment_id
    with uow() as s:
        cash = payments.start_payment(s, order_id, provider="manual", actor="user:1")
        payments.confirm_payment(s, cash.id, actor="user:1")
        return order_id, card, cash.id


def _refunds(uow: Any, order_id: int) -> list[tuple[str, str, Decimal]]:
    with uow() as s:
        rows = s.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.local_id))
        return [(r.provider, r.state, r.amount) for r in rows]


def test_the_proposal_prefers_payments_the_provider_refunds_by_itself(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, card, cash = _paid_by_card_and_cash(uow, shop)
    with uow() as s:
        assert propose(s, order_id, D("38.00")) == [(card, D("38.00"))]
        assert propose(s, order_id, D("60.00")) == [(card, D("60.00"))]
        # Cash cannot go back automatically: it covers only what the card cannot.
        assert propose(s, order_id, D("80.00")) == [(card, D("60.00")), (cash, D("20.00"))]
        assert propose(s, order_id, D("100.00")) == [(card, D("60.00")), (cash, D("38.00"))]


def test_an_order_refund_is_automatic_where_possible_and_manual_for_the_rest(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, card, cash = _paid_by_card_and_cash(uow, shop)
    with uow() as s:
        made = refund_order(s, order_id, amount=D("80.00"), actor="user:1")
        assert [(r.payment_id, r.state) for r in made] == [(card, "done"), (cash, "created")]
    assert _refunds(uow, order_id) == [("sandbox", "done", D("60.00")), ("manual", "created", D("20.00"))]
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.has_open_refund and order.refund_total == D("80.00")
        assert s.get(Payment, card).state == "refunded"
        # The manual refund waits for the organizer, who cannot have it "processed" automatically.
        manual = made[1].id
    with pytest.raises(Conflict) as caught, uow() as s:
        process_refund(s, manual, actor="user:1")
    assert caught.value.code == "refund-manual"
    with uow() as s:
        payments.mark_refund_done(s, manual, actor="user:1")
        assert not s.get(Order, order_id).has_open_refund


def test_a_manual_payment_is_never_refunded_silently(uow, shop) -> None:  # type: ignore[no-untyped-def]
    _order_id, _card, cash = _paid_by_card_and_cash(uow, shop)
    assert refund_now(cash, amount=D("38.00"), actor="user:1", uow=uow).state == "created"


def test_marking_refunded_records_money_that_went_back_outside_boxoffice(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, card, _cash = _paid_by_card_and_cash(uow, shop)
    with uow() as s:
        refund = refund_payment(s, card, amount=D("10.00"), actor="user:1", mark_refunded=True, comment="cash back")
        assert (refund.provider, refund.state, refund.comment) == ("manual", "done", "cash back")
        # No money moved at the processor.
        assert processor.refunded_amount(s, s.get(Payment, card).provider_reference) == 0
    with uow() as s:
        made = refund_order(s, order_id, amount=D("88.00"), actor="user:1", mark_refunded=True)
        assert {r.state for r in made} == {"done"} and sum(r.amount for r in made) == D("88.00")


def test_partial_and_full_refunds_go_through_the_processor(uow, shop) -> None:  # type: ignore[no-untyped-def]
    _order_id, card, _cash = _paid_by_card_and_cash(uow, shop)
    assert refund_now(card, amount=D("15.50"), actor="user:1", uow=uow).state == "done"
    assert refund_now(card, amount=D("44.50"), actor="user:1", uow=uow).state == "done"
    with uow() as s:
        payment = s.get(Payment, card)
        assert payment.state == "refunded"
        assert processor.refunded_amount(s, payment.provider_reference) == 6000


def test_a_refused_refund_is_committed_as_failed_then_raised(
    uow, shop, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise processor.ProcessorError("Insufficient balance in the sandbox account.")

    order_id, card, _cash = _paid_by_card_and_cash(uow, shop)
    monkeypatch.setattr(processor, "refund", refuse)
    with pytest.raises(RefundDeclined, match="Insufficient balance") as caught:
        give_back(order_id, amount=D("60.00"), actor="user:1", uow=uow)
    assert caught.value.code == "refund-declined"
    assert _refunds(uow, order_id) == [("sandbox", "failed", D("60.00"))]
    with uow() as s:
        assert s.get(Payment, card).state == "confirmed" and s.get(Order, order_id).refund_total == 0


def test_an_unreachable_provider_leaves_the_refund_in_transit(
    uow, shop, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    def unreachable(self: SandboxProvider, refund: Refund) -> RefundResult:
        raise ProviderUnavailable("connection reset")

    _order_id, card, _cash = _paid_by_card_and_cash(uow, shop)
    monkeypatch.setattr(SandboxProvider, "execute_refund", unreachable)
    refund = refund_now(card, amount=D("60.00"), actor="user:1", uow=uow)
    assert refund.state == "transit" and "connection reset" in refund.info["message"]


def test_a_created_refund_is_processed_later_through_its_provider(uow, shop) -> None:  # type: ignore[no-untyped-def]
    _order_id, card, _cash = _paid_by_card_and_cash(uow, shop)
    with uow() as s:
        refund_id = refund_payment(s, card, amount=D("60.00"), actor="user:1", execute=False).id
    with uow() as s:
        assert process_refund(s, refund_id, actor="user:1").state == "done"
    with pytest.raises(Conflict) as caught, uow() as s:
        process_refund(s, refund_id, actor="user:1")
    assert caught.value.code == "refund-not-created"


def test_more_than_was_paid_cannot_be_refunded(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, _card, _cash = _paid_by_card_and_cash(uow, shop)
    for amount in (D("98.01"), D("0"), D("-1")):
        with pytest.raises(InvalidValue) as caught, uow() as s:
            refund_order(s, order_id, amount=amount, actor="user:1")
        assert caught.value.pointer == "/data/attributes/amount"
    assert _refunds(uow, order_id) == []
