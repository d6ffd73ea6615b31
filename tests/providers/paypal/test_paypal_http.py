"""PayPal end to end through the public HTTP API: a payment with approval, the Open Event charge with an
approved order, refunds, and PayPal's webhooks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/paypal/conftest.py)
Http = Any  # the ``http`` fixture's class (tests/providers/conftest.py)


def _start(http: Http, buyer: Buyer) -> tuple[int, str, dict[str, Any]]:
    """A buyer places an order with payment mode paypal and starts paying: order id, token, payment."""
    order_id, token = http.place(buyer.shop, "paypal")
    created = http.call("POST", f"/v1/orders/{order_id}/payments", 201, http.action("payments"), token)
    return order_id, token, created["data"]


def test_a_payment_exposes_the_paypal_order_and_approval_then_the_return_pays_the_order(
    http: Http, buyer: Buyer
) -> None:
    order_id, token, payment = _start(http, buyer)

    details = payment["attributes"]["details"]
    assert payment["attributes"]["state"] == "pending"
    assert details["paypal-order-id"] in buyer.fake.orders
    assert details["approve-url"].endswith(f"/checkoutnow?token={details['paypal-order-id']}")
    back = buyer.follow(buyer.approve(details["approve-url"]))
    assert back.status_code == 303
    order = http.call("GET", f"/v1/orders/{order_id}", 200, token=token)["data"]["attributes"]
    assert (order["status"], order["payment-state"]) == ("paid", "paid")


def test_the_charge_with_the_approved_paypal_order_pays_the_order(http: Http, buyer: Buyer) -> None:
    order_id, token, payment = _start(http, buyer)
    paypal_order_id = payment["attributes"]["details"]["paypal-order-id"]
    buyer.fake.approve(paypal_order_id)

    answer = http.call(
        "POST", f"/v1/orders/{order_id}/charge", 200, http.action("charge", paypal=paypal_order_id), token
    )

    assert answer["data"]["attributes"]["status"] is True
    states = [
        p["attributes"]["state"] for p in http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=token)["data"]
    ]
    assert states == ["canceled", "confirmed"]
    assert len(buyer.fake.captures) == 1


def test_a_charge_with_another_orders_paypal_order_is_refused_without_capturing(http: Http, buyer: Buyer) -> None:
    _other, _other_token, foreign = _start(http, buyer)
    paypal_order_id = foreign["attributes"]["details"]["paypal-order-id"]
    buyer.fake.approve(paypal_order_id)
    order_id, token = http.place(buyer.shop, "paypal")

    answer = http.call(
        "POST", f"/v1/orders/{order_id}/charge", 422, http.action("charge", paypal=paypal_order_id), token
    )

    assert answer["errors"][0]["detail"] == "This PayPal payment was not made for this order."
    assert buyer.fake.captures == {}


def test_a_declined_capture_leaves_a_failed_attempt_and_an_unpaid_order(http: Http, buyer: Buyer) -> None:
    order_id, token, payment = _start(http, buyer)
    buyer.fake.decline_next_capture()

    buyer.follow(buyer.approve(payment["attributes"]["details"]["approve-url"]))

    after = http.call("GET", f"/v1/payments/{payment['id']}", 200, token=token)["data"]["attributes"]
    assert after["state"] == "failed" and "declined" in after["details"]["message"]
    assert http.call("GET", f"/v1/orders/{order_id}", 200, token=token)["data"]["attributes"]["status"] == "pending"


def test_refunds_through_the_api_and_at_paypal(http: Http, buyer: Buyer) -> None:
    order_id, _token, payment = _start(http, buyer)
    buyer.follow(buyer.approve(payment["attributes"]["details"]["approve-url"]))
    admin = http.admin(buyer.shop)

    part = http.call("POST", f"/v1/payments/{payment['id']}/refund", 201, http.action("refunds", amount="9.00"), admin)
    capture_id = buyer.payment(int(payment["id"])).info["capture-id"]
    made = buyer.paypal("POST", f"/v2/payments/captures/{capture_id}/refund",
                        json={"amount": {"currency_code": "EUR", "value": "40.00"}})  # fmt: skip
    buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.REFUNDED", made["id"]))

    assert part["data"]["attributes"]["state"] == "done"
    refunds = http.call("GET", f"/v1/orders/{order_id}/refunds", 200, token=admin)["data"]
    assert [
        (r["attributes"]["source"], r["attributes"]["state"], Decimal(r["attributes"]["amount"])) for r in refunds
    ] == [
        ("admin", "done", Decimal("9.00")),
        ("external", "external", Decimal("40.00")),
    ]
    http.call(
        "POST", f"/v1/refunds/{refunds[1]['id']}/process", 200, http.action("refund-process", then="pending"), admin
    )
    order = http.call("GET", f"/v1/orders/{order_id}", 200, token=admin)["data"]["attributes"]
    assert (order["status"], order["pending-sum"]) == ("pending", "49.00")


def test_a_dispute_waits_for_the_organizer_and_a_forged_resolution_changes_nothing(http: Http, buyer: Buyer) -> None:
    order_id, _token, payment = _start(http, buyer)
    buyer.follow(buyer.approve(payment["attributes"]["details"]["approve-url"]))
    admin = http.admin(buyer.shop)
    capture_id = buyer.payment(int(payment["id"])).info["capture-id"]
    dispute = buyer.fake.open_dispute(capture_id)
    buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.CREATED", dispute))
    buyer.fake.resolve_dispute(dispute, "RESOLVED_SELLER_FAVOUR")
    buyer.fake.fail_signature_verification = True

    forged = buyer.deliver(buyer.fake.event("CUSTOMER.DISPUTE.RESOLVED", dispute))

    assert forged.status_code == 400
    refunds = http.call("GET", f"/v1/orders/{order_id}/refunds", 200, token=admin)["data"]
    assert [(r["attributes"]["state"], r["attributes"]["amount"]) for r in refunds] == [("external", "49.00")]
