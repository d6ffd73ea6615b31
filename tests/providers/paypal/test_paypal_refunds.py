"""Refunds through PayPal, refunds made at PayPal, reversals and disputes, all through the webhook."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boxoffice.payments import refunding
from boxoffice.providers.base import RefundResult
from boxoffice.providers.paypal.rules import mark
from boxoffice.providers.registry import provider_for

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/paypal/conftest.py)
ADMIN = "user:admin@acme.example"


def test_a_partial_then_the_remaining_refund_go_back_through_paypal(buyer: Buyer) -> None:
    order_id = buyer.place(regular=2)
    payment_id, capture_id = buyer.captured(order_id)

    first = refunding.refund_now(payment_id, amount=Decimal("20.00"), actor=ADMIN, uow=buyer.uow)
    second = refunding.refund_now(payment_id, amount=Decimal("78.00"), actor=ADMIN, uow=buyer.uow)

    assert (first.state, second.state) == ("done", "done")
    at_paypal = buyer.fake.refunds[str(first.provider_reference)]
    assert at_paypal["amount"] == {"currency_code": "EUR", "value": "20.00"}
    assert at_paypal["invoice_id"] == mark(first.id, f"{buyer.order(order_id).code}-R-1")
    assert buyer.fake.captures[capture_id]["status"] == "REFUNDED"
    assert buyer.payment(payment_id).state == "refunded"


def test_a_pending_refund_is_in_transit_until_the_webhook_completes_it(buyer: Buyer) -> None:
    order_id = buyer.place()
    payment_id, _capture_id = buyer.captured(order_id)
    buyer.fake.pending_next_refund()
    refund = refunding.refund_now(payment_id, amount=Decimal("49.00"), actor=ADMIN, uow=buyer.uow)
    assert refund.state == "transit"

    buyer.fake.complete_pending_refund(str(refund.provider_reference))
    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.REFUNDED", str(refund.provider_reference)))

    assert buyer.refunds(order_id) == [("admin", "done", Decimal("49.00"), refund.provider_reference)]


def test_the_webhook_of_our_own_refund_records_nothing_more(buyer: Buyer) -> None:
    order_id = buyer.place()
    payment_id, _capture_id = buyer.captured(order_id)
    refund = refunding.refund_now(payment_id, amount=Decimal("10.00"), actor=ADMIN, uow=buyer.uow)

    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.REFUNDED", str(refund.provider_reference)))

    assert buyer.events() == [("PAYMENT.CAPTURE.REFUNDED", "processed")]
    assert [r[:2] for r in buyer.refunds(order_id)] == [("admin", "done")]


def test_a_refund_made_at_paypal_becomes_an_external_refund_once(buyer: Buyer) -> None:
    order_id = buyer.place()
    _payment_id, capture_id = buyer.captured(order_id)
    made = buyer.paypal(
        "POST",
        f"/v2/payments/captures/{capture_id}/refund",
        json={"amount": {"currency_code": "EUR", "value": "15.00"}},
    )
    event = buyer.fake.event("PAYMENT.CAPTURE.REFUNDED", made["id"])

    assert buyer.deliver(event).status_code == 200
    assert buyer.deliver(event).json()["meta"] == {"received": 0, "duplicates": 1}

    assert buyer.refunds(order_id) == [("external", "external", Decimal("15.00"), made["id"])]
    assert buyer.order(order_id).has_open_refund


def test_a_reversed_capture_becomes_an_external_refund(buyer: Buyer) -> None:
    order_id = buyer.place()
    _payment_id, capture_id = buyer.captured(order_id)
    reversal = buyer.fake.reverse_capture(capture_id)

    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.REVERSED", reversal))

    assert buyer.refunds(order_id) == [("external", "external", Decimal("49.00"), reversal)]


def test_a_dispute_becomes_an_external_refund_and_winning_it_cancels_that_refund(buyer: Buyer) -> None:
    order_id = buyer.place()
    _payment_id, capture_id = buyer.captured(order_id)
    dispute = buyer.fake.open_dispute(capture_id, amount=Decimal("30.00"))

    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.CREATED", dispute))
    assert buyer.refunds(order_id) == [("external", "external", Decimal("30.00"), dispute)]

    buyer.fake.resolve_dispute(dispute, "RESOLVED_SELLER_FAVOUR")
    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.RESOLVED", dispute))

    assert buyer.refunds(order_id) == [("external", "canceled", Decimal("30.00"), dispute)]
    assert buyer.actions(order_id, "payment.dispute-won") == 1
    assert not buyer.order(order_id).has_open_refund


def test_a_lost_dispute_is_noted_and_its_refund_waits_for_the_organizer(buyer: Buyer) -> None:
    order_id = buyer.place()
    _payment_id, capture_id = buyer.captured(order_id)
    dispute = buyer.fake.open_dispute(capture_id)
    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.CREATED", dispute))

    buyer.fake.resolve_dispute(dispute, "RESOLVED_BUYER_FAVOUR")
    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.RESOLVED", dispute))

    assert buyer.refunds(order_id)[0][:2] == ("external", "external")
    assert buyer.actions(order_id, "payment.dispute-lost") == 1


def test_a_chargeback_reported_as_dispute_and_reversal_is_one_external_refund(buyer: Buyer) -> None:
    order_id = buyer.place()
    _payment_id, capture_id = buyer.captured(order_id)
    dispute = buyer.fake.open_dispute(capture_id)
    reversal = buyer.fake.reverse_capture(capture_id)

    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.CREATED", dispute))
    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.REVERSED", reversal))
    buyer.fake.resolve_dispute(dispute, "RESOLVED_SELLER_FAVOUR")
    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.RESOLVED", dispute))

    assert buyer.refunds(order_id) == [("external", "canceled", Decimal("49.00"), dispute)]
    assert buyer.actions(order_id, "refund.external-linked") == 1


def test_a_reversal_reported_before_its_dispute_is_still_one_external_refund(buyer: Buyer) -> None:
    order_id = buyer.place()
    _payment_id, capture_id = buyer.captured(order_id)
    reversal = buyer.fake.reverse_capture(capture_id)
    dispute = buyer.fake.open_dispute(capture_id)

    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.REVERSED", reversal))
    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.CREATED", dispute))
    buyer.fake.resolve_dispute(dispute, "RESOLVED_SELLER_FAVOUR")
    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.RESOLVED", dispute))

    assert buyer.refunds(order_id) == [("external", "canceled", Decimal("49.00"), reversal)]


def test_execute_refund_reports_the_refund_and_leaves_it_to_the_core(buyer: Buyer) -> None:
    order_id = buyer.place()
    payment_id, _capture_id = buyer.captured(order_id)
    with buyer.uow() as s:
        refund = refunding.refund_payment(s, payment_id, amount=Decimal("10.00"), actor=ADMIN, execute=False)
        result = provider_for(refund.order.event, "paypal", s).execute_refund(refund)
        assert isinstance(result, RefundResult) and result.state == "done" and result.reference
        assert (refund.state, refund.provider_reference) == ("created", None)

    assert [r[1] for r in buyer.refunds(order_id)] == ["created"]
