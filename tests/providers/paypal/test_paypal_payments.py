"""PayPal Checkout against the PayPal fake: approval and return, captures, tokens, write-ahead, janitor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from boxoffice.payments import checkout
from boxoffice.payments.janitor import check_order
from boxoffice.payments.models import Payment
from boxoffice.providers import reconcile
from boxoffice.providers.base import PaymentResult
from boxoffice.providers.paypal.client import PayPalClient, PayPalUnavailable
from boxoffice.providers.paypal.rules import mark
from boxoffice.providers.registry import provider_for
from conftest import make_shop

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/paypal/conftest.py)


def test_starting_a_paypal_payment_creates_an_order_for_our_attempt_and_sends_the_buyer_to_approve(
    uow: Any, buyer: Buyer
) -> None:
    order_id = buyer.place()

    outcome = buyer.pay(order_id)

    assert outcome.state == "pending" and outcome.redirect_url
    payment = buyer.payment(outcome.payment_id)
    remote = buyer.fake.orders[str(payment.provider_reference)]
    assert remote["purchase_units"][0]["custom_id"] == mark(payment.id, payment.full_id)
    assert remote["purchase_units"][0]["amount"] == {"currency_code": "EUR", "value": "49.00"}
    assert ("POST", "/v2/checkout/orders", f"boxoffice-payment-{payment.id}-{payment.full_id}-create") in (
        buyer.fake.requests
    )
    with uow() as s:
        details = provider_for(buyer.shop.event, "paypal", s).api_payment_details(payment)
    assert details["paypal-order-id"] == payment.provider_reference
    assert details["approve-url"] == outcome.redirect_url


def test_the_buyer_approves_returns_and_the_order_is_captured_and_paid(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)

    answer = buyer.follow(buyer.approve(str(outcome.redirect_url)))

    assert answer.status_code == 303
    order = buyer.order(order_id)
    assert answer.headers["location"].endswith(f"/e/acme/conf/order/{order.code}/{order.secret}/")
    assert order.status == "paid"
    payment = buyer.payment(outcome.payment_id)
    capture = buyer.fake.captures[payment.info["capture-id"]]
    assert capture["status"] == "COMPLETED" and capture["custom_id"] == mark(payment.id, payment.full_id)


def test_returning_twice_and_the_webhook_capture_and_confirm_once(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    back = buyer.approve(str(outcome.redirect_url))
    buyer.follow(back)
    capture_id = buyer.payment(outcome.payment_id).info["capture-id"]

    buyer.follow(back)
    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    assert len(buyer.fake.captures) == 1
    assert buyer.actions(order_id, "payment.confirmed") == 1
    assert buyer.events() == [("PAYMENT.CAPTURE.COMPLETED", "processed")]


def test_a_declined_capture_fails_the_attempt(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    buyer.fake.decline_next_capture()

    buyer.follow(buyer.approve(str(outcome.redirect_url)))

    payment = buyer.payment(outcome.payment_id)
    assert payment.state == "failed" and "declined" in payment.info["message"]
    assert buyer.order(order_id).status == "pending"


def test_a_capture_declined_inside_a_completed_order_is_no_money(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    buyer.fake.decline_next_capture(issue=None)

    buyer.follow(buyer.approve(str(outcome.redirect_url)))

    assert buyer.payment(outcome.payment_id).state == "failed"
    assert buyer.order(order_id).payment_total == 0


def test_a_pending_capture_waits_for_the_webhook(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    buyer.fake.pending_next_capture()
    buyer.follow(buyer.approve(str(outcome.redirect_url)))
    payment = buyer.payment(outcome.payment_id)
    assert payment.state == "pending" and buyer.order(order_id).status == "pending"

    buyer.fake.complete_pending(payment.info["capture-id"])
    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", payment.info["capture-id"]))

    assert buyer.order(order_id).status == "paid"


def test_a_pending_capture_declined_later_fails_the_attempt(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    buyer.fake.pending_next_capture()
    buyer.follow(buyer.approve(str(outcome.redirect_url)))
    capture_id = buyer.payment(outcome.payment_id).info["capture-id"]

    buyer.fake.complete_pending(capture_id, status="DECLINED")
    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.DECLINED", capture_id))

    assert buyer.payment(outcome.payment_id).state == "failed"


def test_the_buyer_cancels_on_paypals_page(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)

    back = buyer.approve(f"{outcome.redirect_url}&cancel=1")
    assert "/providers/paypal/cancel/" in back
    assert buyer.follow(back).status_code == 303

    assert buyer.payment(outcome.payment_id).state == "canceled"
    assert buyer.fake.captures == {}


def test_a_return_url_not_handed_out_by_us_is_not_found(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    back = buyer.approve(str(outcome.redirect_url))

    assert buyer.follow(back.replace("sig=", "sig=f")).status_code == 404
    assert buyer.follow(back.replace("/return/", "/cancel/")).status_code == 404
    assert buyer.payment(outcome.payment_id).state == "pending"
    assert buyer.fake.captures == {}


def test_an_approved_order_id_sent_as_charge_token_is_captured_once_for_the_new_attempt(buyer: Buyer) -> None:
    order_id = buyer.place()
    first = buyer.pay(order_id)
    paypal_order_id = str(buyer.payment(first.payment_id).provider_reference)
    buyer.fake.approve(paypal_order_id)

    charged = buyer.pay(order_id, token=paypal_order_id)

    assert charged.state == "confirmed" and buyer.order(order_id).status == "paid"
    earlier = buyer.payment(first.payment_id)
    assert earlier.state == "canceled" and earlier.info["superseded-by"] == charged.payment_id
    capture_id = buyer.payment(charged.payment_id).info["capture-id"]
    # PayPal reports the capture under the first attempt's mark: it goes to the attempt holding it.
    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))
    assert buyer.payment(first.payment_id).state == "canceled"
    assert buyer.actions(order_id, "payment.confirmed") == 1


def test_a_token_for_another_order_is_refused_without_capturing(buyer: Buyer) -> None:
    other = buyer.pay(buyer.place())
    paypal_order_id = str(buyer.payment(other.payment_id).provider_reference)
    buyer.fake.approve(paypal_order_id)

    refused = buyer.pay(buyer.place(), token=paypal_order_id)

    assert refused.state == "failed" and refused.message == "This PayPal payment was not made for this order."
    assert buyer.fake.captures == {}
    assert buyer.payment(other.payment_id).state == "pending"


def test_a_token_for_another_amount_is_refused_without_capturing(buyer: Buyer) -> None:
    order_id = buyer.place()
    part = buyer.pay(order_id, amount=Decimal("20.00"))
    paypal_order_id = str(buyer.payment(part.payment_id).provider_reference)
    buyer.fake.approve(paypal_order_id)

    refused = buyer.pay(order_id, token=paypal_order_id)

    assert refused.state == "failed" and refused.message == "This PayPal payment is for 20.00 EUR, not 49.00 EUR."
    assert buyer.fake.captures == {}


def test_a_token_of_another_shop_is_refused_without_capturing(uow: Any, buyer: Buyer) -> None:
    with uow() as s:
        providers = {"paypal": buyer.shop.event.payment_providers["paypal"]}
        other = make_shop(s, slug="other", organizer="globex", providers=providers)
    foreign = buyer.pay(buyer.place(shop=other))
    paypal_order_id = str(buyer.payment(foreign.payment_id).provider_reference)
    buyer.fake.approve(paypal_order_id)
    order_id = buyer.place()

    refused = buyer.pay(order_id, token=paypal_order_id)

    assert refused.state == "failed" and refused.message == "This PayPal payment was not made for this order."
    assert buyer.fake.captures == {}


def test_an_unapproved_token_is_declined(buyer: Buyer) -> None:
    order_id = buyer.place()
    first = buyer.pay(order_id)

    refused = buyer.pay(order_id, token=str(buyer.payment(first.payment_id).provider_reference))

    assert refused.state == "failed" and "not yet approved" in str(refused.message)


def test_an_unknown_token_is_declined(buyer: Buyer) -> None:
    refused = buyer.pay(buyer.place(), token="NOSUCHORDER123")

    assert refused.state == "failed" and refused.message == "PayPal does not know this order."


def test_a_capture_whose_answer_is_lost_leaves_the_attempt_pending_and_the_janitor_settles_it(
    uow: Any, buyer: Buyer, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    back = buyer.approve(str(outcome.redirect_url))
    capture = PayPalClient.capture_order

    def answer_lost(self: PayPalClient, order_id: str, request_id: str) -> Any:
        capture(self, order_id, request_id)  # PayPal captures...
        raise PayPalUnavailable("read timed out")  # ...but its answer never arrives

    monkeypatch.setattr(PayPalClient, "capture_order", answer_lost)
    buyer.follow(back)
    monkeypatch.undo()
    assert buyer.payment(outcome.payment_id).state == "pending"

    with uow() as s:
        checked = check_order(s, order_id, "user:admin")

    assert [(c.remote, c.outcome) for c in checked] == [("confirmed", "confirm")]
    assert buyer.order(order_id).status == "paid"
    payment = buyer.payment(outcome.payment_id)
    assert payment.info["capture-id"] in buyer.fake.captures  # so it can be refunded


def test_paypal_failing_to_create_the_order_fails_nothing_and_leaves_the_attempt_pending(buyer: Buyer) -> None:
    order_id = buyer.place()
    buyer.fake.fail_next_request(503)

    outcome = buyer.pay(order_id)

    assert outcome.state == "pending" and outcome.redirect_url is None
    assert buyer.payment(outcome.payment_id).provider_reference is None


def test_an_attempt_never_sent_to_paypal_is_canceled_by_the_janitor(uow: Any, buyer: Buyer) -> None:
    from boxoffice.kit import clock
    from boxoffice.payments import checkout

    order_id = buyer.place()
    with uow() as s:
        checkout.begin_payment(s, order_id, provider="paypal", actor="buyer")
    clock.travel(60 * 60)
    try:
        with uow() as s:
            checked = check_order(s, order_id, "user:admin")
    finally:
        clock.travel(0)

    assert [(c.remote, c.outcome) for c in checked] == [("canceled", "cancel")]


def test_an_approved_order_whose_buyer_never_returned_is_captured_by_the_approval_webhook(buyer: Buyer) -> None:
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    paypal_order_id = str(buyer.payment(outcome.payment_id).provider_reference)
    buyer.fake.approve(paypal_order_id)
    resource = buyer.paypal("GET", f"/v2/checkout/orders/{paypal_order_id}")
    event = {
        "id": "WH-APPROVED-1", "event_version": "1.0", "create_time": "2025-01-01T00:00:00Z",
        "resource_type": "checkout-order", "resource_version": "2.0", "event_type": "CHECKOUT.ORDER.APPROVED",
        "summary": "An order has been approved by buyer", "resource": resource, "links": [],
    }  # fmt: skip

    assert buyer.deliver(event).status_code == 200

    assert buyer.events() == [("CHECKOUT.ORDER.APPROVED", "processed")]
    assert buyer.order(order_id).status == "paid"
    assert Decimal(buyer.payment(outcome.payment_id).amount) == Decimal("49.00")


def test_execute_payment_reports_and_leaves_the_attempt_to_the_core(uow: Any, buyer: Buyer) -> None:
    order_id = buyer.place()
    with uow() as s:
        payment_id = checkout.begin_payment(s, order_id, provider="paypal", actor="buyer").id
    with uow() as s:
        payment = s.get(Payment, payment_id)
        sent = provider_for(payment.order.event, "paypal", s).execute_payment(payment)
        assert isinstance(sent, PaymentResult) and sent.state == "pending" and sent.redirect_url and sent.reference
        assert (payment.state, payment.provider_reference) == ("created", None)
        reconcile.apply_payment_result(s, payment_id, sent, actor="provider:paypal")  # what the core does with it
    assert buyer.payment(payment_id).state == "pending"

    buyer.fake.approve(sent.reference)
    with uow() as s:
        charged_id = checkout.begin_payment(
            s, order_id, provider="paypal", actor="buyer", form_data={"paypal": sent.reference}
        ).id
    with uow() as s:
        payment = s.get(Payment, charged_id)
        captured = provider_for(payment.order.event, "paypal", s).execute_payment(payment)
    assert captured == PaymentResult.confirmed(reference=sent.reference, amount=Decimal("49.00"))
    assert buyer.payment(charged_id).state == "created" and buyer.payment(charged_id).info["capture-id"]
    assert buyer.order(order_id).status == "pending"
