"""Every action of the order detail: it changes the order through the services and redirects, or it is
refused with the reason next to its form and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import pay
from web.pagekit import CARD_OK, flash_of, text_of


def _order(uow, shop, *, regular: int = 1, provider: str | None = "sandbox") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with uow() as s:
        order = orders.place_order(s, shop.event_id, email="buyer@example.com",
                                   items=[LineItem(shop.regular_id, regular)], actor="buyer")
        order_id, code = order.id, order.code
    if provider == "sandbox":
        pay(order_id, provider="sandbox", actor="buyer", form_data={"sandbox": CARD_OK}, uow=uow)
    elif provider:
        pay(order_id, provider=provider, actor="buyer", uow=uow)
    return order_id, code


def _act(pages, code: str, action: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    pages.login()
    return pages.post(f"/control/acme/conf/orders/{code}/{action}", data or {})


def _done(pages, response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, text_of(response.text)[-800:]
    return flash_of(pages.get(response.headers["location"])) or ""


def test_a_partial_refund_through_the_provider_shows_in_the_balance(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop, regular=2)
    pages.login()
    preview = pages.get(f"/control/acme/conf/orders/{code}/?refund=30.00")
    assert f"{code}-P-1 (sandbox, refunded by the provider) 30.00 EUR" in text_of(preview.text)
    message = _done(pages, _act(pages, code, "refund", {"amount": "30.00", "comment": "two seats moved"}))
    assert message == f"Refund of 30.00 EUR: {code}-R-1 (done)."
    detail = pages.get(f"/control/acme/conf/orders/{code}/")
    assert 'data-balance="refunded">30.00 EUR' in detail.text and 'data-balance="pending">30.00 EUR' in detail.text
    order = load_order(code)
    assert order.refund_total == Decimal("30.00") and order.payment_state == "underpaid"


def test_a_refund_above_what_was_paid_is_refused_next_to_its_form(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop)
    refused = _act(pages, code, "refund", {"amount": "100.00"})
    assert refused.status_code == 422
    assert "can be refunded; 100.00 was asked for." in text_of(refused.text) and 'id="refund"' in refused.text
    malformed = _act(pages, code, "refund", {"amount": "12,5"})
    assert malformed.status_code == 422 and "is not a decimal amount" in text_of(malformed.text)
    assert load_order(code).refunds == []


def test_mark_refunded_records_money_that_went_back_outside_boxoffice(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop)
    _done(pages, _act(pages, code, "refund", {"amount": "49.00", "mark_refunded": "on"}))
    refund = load_order(code).refunds[0]
    assert (refund.provider, refund.state, refund.amount) == ("manual", "done", Decimal("49.00"))


def test_confirming_and_canceling_payments_by_hand(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop, provider="manual")
    payment_id = load_order(code).payments[0].id
    assert "is confirmed (order paid)" in _done(pages, _act(pages, code, "confirm-payment", {"payment": str(payment_id)}))
    assert load_order(code).status == "paid"

    _, other = _order(uow, web_shop, provider="banktransfer")
    open_id = load_order(other).payments[0].id
    assert _done(pages, _act(pages, other, "cancel-payment", {"payment": str(open_id)})) == f"Payment {other}-P-1 is canceled."
    refused = _act(pages, code, "cancel-payment", {"payment": str(open_id)})  # another order's payment
    assert refused.status_code == 404 and load_order(other).payments[0].state == "canceled"


def test_recording_a_payment_and_marking_paid(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop, provider=None)
    assert "of 20.00 EUR is recorded" in _done(pages, _act(pages, code, "record-payment", {"amount": "20.00"}))
    assert load_order(code).payment_state == "partially-paid"
    assert _done(pages, _act(pages, code, "mark-paid")) == f"Order {code} is marked paid."
    order = load_order(code)
    assert order.status == "paid" and order.payment_total == Decimal("49.00")
    refused = _act(pages, code, "mark-paid")
    assert refused.status_code == 409 and "cannot be marked paid" in text_of(refused.text)
    assert _act(pages, code, "record-payment", {"amount": "-1"}).status_code == 422


def test_an_external_refund_accepted_cancels_the_order(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    order_id, code = _order(uow, web_shop)
    with uow() as s:
        refund_id = payments.create_external_refund(
            s, order_id, amount=Decimal("49.00"), actor="provider:sandbox", provider="sandbox", comment="chargeback"
        ).id
    message = _done(pages, _act(pages, code, "refund-accept", {"refund": str(refund_id), "then": "cancel"}))
    assert message == f"External refund {code}-R-1 accepted; the order is canceled."
    order = load_order(code)
    assert order.status == "canceled" and order.refunds[0].state == "done" and order.payment_state == "paid"


def test_an_external_refund_accepted_sends_the_order_back_to_pending_with_a_new_deadline(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    order_id, code = _order(uow, web_shop)
    with uow() as s:
        refund_id = payments.create_external_refund(s, order_id, amount=Decimal("49.00"), actor="x", provider="sandbox").id
    deadline = (now() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    _done(pages, _act(pages, code, "refund-accept", {"refund": str(refund_id), "then": "pending", "expires_at": deadline}))
    order = load_order(code)
    assert order.status == "pending" and order.pending_sum == Decimal("49.00")
    assert order.expires_at.strftime("%Y-%m-%dT%H:%M") == deadline  # the event's time zone is UTC
    assert _act(pages, code, "refund-accept", {"refund": str(refund_id), "then": "pending"}).status_code == 409


def test_rejecting_an_external_refund_and_handling_refunds_by_hand(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    order_id, code = _order(uow, web_shop, provider="manual")
    with uow() as s:
        payments.confirm_payment(s, load_order(code).payments[0].id, actor="x")
        external = payments.create_external_refund(s, order_id, amount=Decimal("5.00"), actor="x", provider="manual").id
    assert _done(pages, _act(pages, code, "refund-cancel", {"refund": str(external)})) == f"Refund {code}-R-1 is rejected."
    assert _act(pages, code, "refund-accept", {"refund": str(external), "then": "bogus"}).status_code == 422
    # A manual payment's refund waits for the organizer, who cannot send it to a provider but marks it done.
    _done(pages, _act(pages, code, "refund", {"amount": "9.00"}))
    manual = load_order(code).refunds[1]
    assert manual.state == "created"
    refused = _act(pages, code, "refund-process", {"refund": str(manual.id)})
    assert refused.status_code == 409 and "cannot refund by itself" in text_of(refused.text)
    assert "is marked done" in _done(pages, _act(pages, code, "refund-done", {"refund": str(manual.id)}))
    assert [r.state for r in load_order(code).refunds] == ["canceled", "done"]


def test_canceling_keeps_the_fee_and_refunds_the_rest(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop)
    message = _done(pages, _act(pages, code, "cancel", {"cancellation_fee": "9.00", "refund": "on"}))
    assert message == f"Order {code} is canceled (fee 9.00 EUR); refunds {code}-R-1 (done)."
    order = load_order(code)
    assert order.status == "canceled" and order.total == Decimal("9.00") and order.refund_total == Decimal("40.00")
    assert _act(pages, code, "cancel").status_code == 409


def test_a_negative_cancellation_fee_is_refused(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop)
    refused = _act(pages, code, "cancel", {"cancellation_fee": "-1.00", "refund": "on"})
    assert refused.status_code == 422 and "must not be negative" in text_of(refused.text)
    assert load_order(code).status == "paid"


def test_extending_and_reactivating_a_pending_order(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    order_id, code = _order(uow, web_shop, provider=None)
    later = (now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    assert "is pending until" in _done(pages, _act(pages, code, "extend", {"expires_at": later}))
    assert load_order(code).expires_at.strftime("%Y-%m-%dT%H:%M") == later
    past = (now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert _act(pages, code, "extend", {"expires_at": past}).status_code == 422
    assert _act(pages, code, "extend", {"expires_at": "soon"}).status_code == 422
    with uow() as s:
        order = s.get(type(load_order(code)), order_id)
        order.expires_at = now() - timedelta(minutes=1)
    with uow() as s:
        assert orders.expire_order(s, order_id, actor="system")
    assert _done(pages, _act(pages, code, "reactivate")) == f"Order {code} is pending again."
    assert load_order(code).status == "pending"
    assert _act(pages, code, "reactivate").status_code == 409


def test_changing_positions_gives_a_new_total_and_proposes_the_refund(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop, regular=2)
    first, second = (p.id for p in load_order(code).positions)
    response = _act(pages, code, "change", {f"remove-{second}": "on", f"price-{first}": "49.00"})
    assert response.status_code == 303 and response.headers["location"].endswith("?refund=49.00#refund")
    shown = text_of(pages.get(response.headers["location"]).text)
    assert "total 98.00 EUR → 49.00 EUR. 49.00 EUR is owed back" in shown
    assert f"{code}-P-1 (sandbox, refunded by the provider) 49.00 EUR" in shown
    assert load_order(code).payment_state == "overpaid"

    added = _act(pages, code, "change", {"add_product": str(web_shop.regular_id), "add_quantity": "2"})
    assert "total 49.00 EUR → 147.00 EUR" in _done(pages, added)
    order = load_order(code)
    assert order.status == "pending" and order.pending_sum == Decimal("49.00")  # owed again: back to pending
    refused = _act(pages, code, "change", {f"price-{first}": "-5"})
    assert refused.status_code == 422 and load_order(code).total == Decimal("147.00")
    assert _act(pages, code, "change", {}).status_code == 422


def test_asking_providers_about_open_attempts(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop, provider="banktransfer")
    assert _done(pages, _act(pages, code, "check")) == "There is nothing open to check with a provider."


def test_an_unknown_action_or_order_is_not_found(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    _, code = _order(uow, web_shop)
    assert _act(pages, code, "teleport").status_code == 404
    assert _act(pages, "NOPE9", "mark-paid").status_code == 404
    assert _act(pages, code, "confirm-payment", {"payment": "abc"}).status_code == 422
