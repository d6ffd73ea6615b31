"""Providers report, the core decides: what ``execute_payment`` / ``execute_refund`` return is applied by
the core, and anything but an outcome value is a :class:`ProviderContractError` that changes nothing."""

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import begin_payment, execute_payment, pay
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.refunding import execute_refund, refund_payment
from boxoffice.providers.base import PaymentResult, ProviderContractError, RefundResult
from boxoffice.providers.manual import ManualProvider
from boxoffice.providers.sandbox.provider import SandboxProvider

CARD = {"sandbox": "4242424242424242"}

# What providers returned before outcome values, and outcome values the hook may not report.
OLD_PAYMENT_FORMS = {
    "none": None,
    "redirect-url": "https://pay.example/confirm/123",
    "refund-result": RefundResult.done(),
    "state-it-cannot-report": PaymentResult("canceled"),
}
OLD_REFUND_FORMS = {"none": None, "payment-result": PaymentResult.confirmed(), "state": RefundResult("canceled")}


def _order(uow: Any, shop: Any) -> int:
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        ).id


def _written(uow: Any, order_id: int) -> tuple[Any, ...]:
    """Everything an execution could change: the order, its attempts and its audit log."""
    with uow() as s:
        order = s.get(Order, order_id)
        attempts = [
            (a.full_id, a.state, a.attempts, a.provider_reference, a.info)
            for a in [*order.payments, *s.scalars(select(Refund).where(Refund.order_id == order_id))]
        ]
        entries = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.order_id == order_id))
        return order.status, order.payment_state, order.pending_sum, attempts, entries


@pytest.mark.parametrize("old", OLD_PAYMENT_FORMS.values(), ids=OLD_PAYMENT_FORMS.keys())
def test_execute_payment_returning_anything_but_a_payment_result_raises_and_changes_nothing(
    uow, shop, monkeypatch: pytest.MonkeyPatch, old: object
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(SandboxProvider, "execute_payment", lambda self, payment: old)
    order_id = _order(uow, shop)
    with uow() as s:
        payment_id = begin_payment(s, order_id, provider="sandbox", actor="buyer", form_data=CARD).id
    before = _written(uow, order_id)

    with pytest.raises(ProviderContractError, match=r"'sandbox' returned .* from execute_payment\(\)"), uow() as s:
        execute_payment(s, payment_id, actor="buyer")

    assert _written(uow, order_id) == before
    with uow() as s:
        assert s.get(Payment, payment_id).state == "created"


def test_an_old_provider_that_confirms_the_attempt_itself_is_refused_and_its_confirmation_undone(
    uow, shop, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    def confirms_itself(self: ManualProvider, payment: Payment) -> None:
        payments.confirm_payment(self.session, payment.id, actor=self.actor)

    monkeypatch.setattr(ManualProvider, "execute_payment", confirms_itself)
    order_id = _order(uow, shop)

    with pytest.raises(ProviderContractError, match="must return a PaymentResult"):
        pay(order_id, provider="manual", actor="buyer", uow=uow)

    with uow() as s:
        order = s.get(Order, order_id)
        assert (order.status, [p.state for p in order.payments]) == ("pending", ["created"])
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.order_id == order_id)).all()
        assert "payment.confirmed" not in actions and "order.paid" not in actions


@pytest.mark.parametrize("old", OLD_REFUND_FORMS.values(), ids=OLD_REFUND_FORMS.keys())
def test_execute_refund_returning_anything_but_a_refund_result_raises_and_changes_nothing(
    uow, shop, monkeypatch: pytest.MonkeyPatch, old: object
) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    payment_id = pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow).payment_id
    with uow() as s:
        refund_id = refund_payment(s, payment_id, amount=Decimal("10.00"), actor="user:organizer", execute=False).id
    monkeypatch.setattr(SandboxProvider, "execute_refund", lambda self, refund: old)
    before = _written(uow, order_id)

    with pytest.raises(ProviderContractError, match=r"'sandbox' returned .* from execute_refund\(\)"), uow() as s:
        execute_refund(s, refund_id, actor="user:organizer")

    assert _written(uow, order_id) == before
    with uow() as s:
        assert s.get(Refund, refund_id).state == "created"


@pytest.mark.parametrize(
    ("reported", "state"),
    [
        (PaymentResult.confirmed(reference="ref-1", amount=Decimal("50.00")), "confirmed"),
        (PaymentResult.pending(reference="ref-1", redirect_url="https://pay.example/3ds"), "pending"),
        (PaymentResult.failed("Card refused.", reference="ref-1"), "failed"),
    ],
    ids=["confirmed", "pending", "failed"],
)
def test_the_core_applies_what_the_provider_reports(
    uow, shop, monkeypatch: pytest.MonkeyPatch, reported: PaymentResult, state: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ManualProvider, "execute_payment", lambda self, payment: reported)
    order_id = _order(uow, shop)
    with uow() as s:
        payment_id = begin_payment(s, order_id, provider="manual", actor="buyer").id

    with uow() as s:
        outcome = execute_payment(s, payment_id, actor="buyer")

    assert (outcome.state, outcome.message, outcome.redirect_url) == (state, reported.message, reported.redirect_url)
    with uow() as s:
        payment = s.get(Payment, payment_id)
        assert (payment.state, payment.provider_reference) == (state, "ref-1")
        # The books follow the money the provider reports.
        assert payment.amount == (reported.amount or Decimal("49.00"))
        assert s.get(Order, order_id).status == ("paid" if state == "confirmed" else "pending")
