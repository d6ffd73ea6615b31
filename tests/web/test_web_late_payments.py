"""Money that arrives after an order expired: the three policies differ as their labels say, and the
organizer decides from the order page (accept, over-book on purpose, or refund)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from boxoffice.catalogue.models import Event, Quota
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.models import Refund
from boxoffice.payments.rules import ConfirmOutcome
from web.pagekit import flash_of, text_of


def _late(uow, shop, policy: str | None, *, take_the_seats: bool = False) -> tuple[str, ConfirmOutcome]:  # type: ignore[no-untyped-def]
    """An order that expires with a manual payment open, which is then confirmed."""
    with uow() as s:
        event = s.get(Event, shop.event_id)
        event.settings = {"late-payment-policy": policy} if policy else {}
        s.get(Quota, shop.quota_id).size = 1  # type: ignore[union-attr]
    with uow() as s:
        order = orders.place_order(s, shop.event_id, email="late@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer")
        payment_id = payments.start_payment(s, order.id, provider="manual", actor="buyer").id
        code, order_id = order.code, order.id
    with uow() as s:
        s.get(Order, order_id).expires_at = now() - timedelta(minutes=1)  # type: ignore[union-attr]
    with uow() as s:
        assert orders.expire_order(s, order_id)
    if take_the_seats:
        with uow() as s:
            orders.place_order(s, shop.event_id, email="other@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer")
    with uow() as s:
        outcome = payments.confirm_payment(s, payment_id, actor="bank").outcome
    return code, outcome


def _actions(uow, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    with uow() as s:
        order_id = s.execute(select(Order.id).where(Order.code == code)).scalar_one()
        return list(s.execute(select(AuditEntry.action).where(AuditEntry.order_id == order_id).order_by(AuditEntry.id)).scalars())


def test_under_ask_a_late_payment_waits_for_the_organizer_even_with_seats_left(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    code, outcome = _late(uow, web_shop, "ask")
    assert outcome == ConfirmOutcome.LATE_HELD
    assert load_order(code).status == "expired" and "order.late-payment-held" in _actions(uow, code)
    pages.login()
    detail = pages.get(f"/control/acme/conf/orders/{code}/")
    assert "Late payment: your decision" in text_of(detail.text)
    accepted = pages.post(f"/control/acme/conf/orders/{code}/accept-late", follow=True)
    assert flash_of(accepted) == f"Order {code} is paid."
    assert load_order(code).status == "paid"


def test_accept_if_quota_pays_a_late_order_by_itself_while_seats_are_left(web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    code, outcome = _late(uow, web_shop, "accept-if-quota")
    assert outcome == ConfirmOutcome.LATE_ACCEPTED and load_order(code).status == "paid"


def test_without_seats_accept_if_quota_asks_and_the_organizer_over_books_on_purpose(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    code, outcome = _late(uow, web_shop, "accept-if-quota", take_the_seats=True)
    assert outcome == ConfirmOutcome.QUOTA_EXCEEDED
    pages.login()
    refused = pages.post(f"/control/acme/conf/orders/{code}/accept-late")
    assert refused.status_code == 409 and load_order(code).status == "expired"
    pages.post(f"/control/acme/conf/orders/{code}/accept-late", {"overbook": "on"})
    assert load_order(code).status == "paid"
    assert "order.overbooked" in _actions(uow, code)
    with uow() as s:
        quota = s.get(Quota, web_shop.quota_id)
        assert quota is not None and (quota.size, quota.used) == (1, 2)


def test_under_refund_a_late_payment_without_seats_goes_back_by_itself(web_shop, uow, load_order, run_jobs) -> None:  # type: ignore[no-untyped-def]
    code, outcome = _late(uow, web_shop, "refund", take_the_seats=True)
    assert outcome == ConfirmOutcome.QUOTA_EXCEEDED
    with uow() as s:
        [refund] = s.scalars(select(Refund))
        assert "late-payment policy" in (refund.comment or "")
    assert load_order(code).status == "expired"


def test_the_organizer_refunds_a_late_payment_and_the_order_stays_expired(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    code, _ = _late(uow, web_shop, "ask")
    pages.login()
    refunded = pages.post(f"/control/acme/conf/orders/{code}/refund-late", follow=True)
    assert "Refund of 49.00 EUR" in (flash_of(refunded) or "")
    order = load_order(code)
    assert order.status == "expired" and [r.amount for r in order.refunds] == [order.payment_total]
