"""Stripe end to end through the public HTTP API: the Open Event charge, refunds, and Stripe's webhooks."""

from __future__ import annotations

from typing import Any

import httpx

from fakes import stripe_events
from fakes.localstripe import CARD_3DS, CARD_DECLINED, CARD_OK, complete_3ds, create_payment_method

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/stripe/conftest.py)
Http = Any  # the ``http`` fixture's class (tests/providers/conftest.py)


def _charge(http: Http, buyer: Buyer, card: str, status: int = 200) -> tuple[int, str, dict[str, Any]]:
    """A buyer places an order with payment mode stripe and charges it: order id, buyer token, answer."""
    order_id, token = http.place(buyer.shop, "stripe")
    pm = create_payment_method(buyer.base_url, card)
    answer = http.call("POST", f"/v1/orders/{order_id}/charge", status, http.action("charge", stripe=pm), token)
    return order_id, token, answer


def test_the_charge_pays_the_order(http: Http, buyer: Buyer) -> None:
    order_id, token, answer = _charge(http, buyer, CARD_OK)

    assert answer["data"]["type"] == "charge"
    assert answer["data"]["attributes"] == {"status": True, "message": "Charge successful."}
    order = http.call("GET", f"/v1/orders/{order_id}", 200, token=token)["data"]["attributes"]
    assert (order["status"], order["payment-state"]) == ("paid", "paid")
    payment = http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=token)["data"][0]["attributes"]
    assert (payment["provider"], payment["state"], payment["amount"]) == ("stripe", "confirmed", "49.00")
    assert payment["details"]["payment-intent"].startswith("pi_")


def test_a_declined_charge_answers_422_and_records_the_failed_attempt(http: Http, buyer: Buyer) -> None:
    order_id, token, answer = _charge(http, buyer, CARD_DECLINED, status=422)

    assert answer["errors"][0]["detail"] == "Your card was declined."
    payments = http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=token)["data"]
    assert [p["attributes"]["state"] for p in payments] == ["failed"]


def test_a_charge_without_token_points_at_the_stripe_attribute(http: Http, buyer: Buyer) -> None:
    order_id, token = http.place(buyer.shop, "stripe")

    answer = http.call("POST", f"/v1/orders/{order_id}/charge", 422, http.action("charge"), token)

    assert answer["errors"][0]["source"] == {"pointer": "/data/attributes/stripe"}


def test_a_charge_needing_3ds_sends_the_buyer_to_the_bank_and_back_to_a_paid_order(http: Http, buyer: Buyer) -> None:
    order_id, token, answer = _charge(http, buyer, CARD_3DS)

    attributes = answer["data"]["attributes"]
    assert attributes["status"] is False and attributes["redirect-url"]
    back = buyer.follow(complete_3ds(attributes["redirect-url"]))
    assert back.status_code == 303 and "/order/" in back.headers["location"]
    order = http.call("GET", f"/v1/orders/{order_id}", 200, token=token)["data"]["attributes"]
    assert order["status"] == "paid"


def test_partial_and_full_refunds_through_the_api(http: Http, buyer: Buyer) -> None:
    order_id, _token, _answer = _charge(http, buyer, CARD_OK)
    admin = http.admin(buyer.shop)
    payment_id = http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=admin)["data"][0]["id"]

    part = http.call("POST", f"/v1/payments/{payment_id}/refund", 201, http.action("refunds", amount="9.00"), admin)
    rest = http.call("POST", f"/v1/payments/{payment_id}/refund", 201, http.action("refunds"), admin)

    assert (part["data"]["attributes"]["state"], part["data"]["attributes"]["amount"]) == ("done", "9.00")
    assert (rest["data"]["attributes"]["state"], rest["data"]["attributes"]["amount"]) == ("done", "40.00")
    payment = http.call("GET", f"/v1/payments/{payment_id}", 200, token=admin)["data"]["attributes"]
    assert payment["state"] == "refunded"


def test_a_dashboard_refund_and_a_dispute_wait_for_the_organizer_who_decides(http: Http, buyer: Buyer) -> None:
    order_id, _token, _answer = _charge(http, buyer, CARD_OK)
    admin = http.admin(buyer.shop)
    intent_id = buyer.payment(
        int(http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=admin)["data"][0]["id"])
    ).provider_reference
    charge = buyer.stripe(f"/v1/payment_intents/{intent_id}")["latest_charge"]["id"]
    buyer.dashboard_refund(intent_id, 1000)
    refunded = buyer.stripe(f"/v1/charges/{charge}")["amount_refunded"]
    buyer.deliver(stripe_events.charge_refunded(charge, payment_intent=intent_id, amount=4900,
                                                amount_refunded=refunded, currency="eur"))  # fmt: skip
    buyer.deliver(stripe_events.charge_dispute_created("dp_http", charge=charge, payment_intent=intent_id,
                                                       amount=3900, currency="eur"))  # fmt: skip

    refunds = http.call("GET", f"/v1/orders/{order_id}/refunds", 200, token=admin)["data"]
    assert [(r["attributes"]["source"], r["attributes"]["state"], r["attributes"]["amount"]) for r in refunds] == [
        ("external", "external", "10.00"),
        ("external", "external", "39.00"),
    ]
    for refund in refunds:
        http.call(
            "POST", f"/v1/refunds/{refund['id']}/process", 200, http.action("refund-process", then="cancel"), admin
        )
    order = http.call("GET", f"/v1/orders/{order_id}", 200, token=admin)["data"]["attributes"]
    assert (order["status"], order["payment-state"], order["has-open-refund"]) == ("canceled", "paid", False)


def _pay_on_checkout_page(url: str, card: str) -> httpx.Response:
    """The buyer on Stripe Checkout's page (localstripe's fake): types the card and presses Pay."""
    card_form = {"number": card, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
    return httpx.post(url, data=card_form)


def test_a_client_may_send_the_buyer_to_stripe_checkout_and_the_return_pays_the_order(http: Http, buyer: Buyer) -> None:
    order_id, token = http.place(buyer.shop, "stripe")

    created = http.call("POST", f"/v1/orders/{order_id}/payments", 201,
                        http.action("payments", **{"stripe-flow": "checkout"}), token)["data"]["attributes"]  # fmt: skip

    assert created["state"] == "pending" and "/_config/checkout/cs_test_" in created["details"]["redirect-url"]
    assert created["details"]["redirect-url"].endswith(created["details"]["checkout-session"])
    paid = _pay_on_checkout_page(created["details"]["redirect-url"], CARD_OK)
    assert paid.status_code == 302 and "/providers/stripe/return/" in paid.headers["location"]
    back = buyer.follow(paid.headers["location"])
    assert back.status_code == 303 and back.headers["location"].endswith("/")
    payment = http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=token)["data"][0]["attributes"]
    assert (payment["state"], payment["amount"]) == ("confirmed", "49.00")
    intent = buyer.stripe(f"/v1/payment_intents/{payment['details']['payment-intent']}")
    assert intent["amount"] == 4900 and intent["metadata"]["boxoffice_full_id"] == payment["full-id"]


def test_a_new_attempt_closes_an_unpaid_checkout_page_and_a_paid_one_cannot_be_replaced(http: Http, buyer: Buyer) -> None:
    order_id, token = http.place(buyer.shop, "stripe", quantity=2)
    first = http.call("POST", f"/v1/orders/{order_id}/payments", 201,
                      http.action("payments", **{"stripe-flow": "checkout"}), token)["data"]["attributes"]  # fmt: skip

    second = http.call("POST", f"/v1/orders/{order_id}/payments", 201,
                       http.action("payments", **{"stripe-flow": "checkout"}), token)["data"]["attributes"]  # fmt: skip

    states = [p["attributes"]["state"] for p in http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=token)["data"]]
    assert states == ["canceled", "pending"]
    closed = _pay_on_checkout_page(first["details"]["redirect-url"], CARD_OK)
    assert "no longer open" in closed.text
    assert _pay_on_checkout_page(second["details"]["redirect-url"], CARD_OK).status_code == 302
    refused = http.call("POST", f"/v1/orders/{order_id}/payments", 409,
                        http.action("payments", **{"stripe-flow": "checkout"}), token)  # fmt: skip
    assert "already made on Stripe's page" in refused["errors"][0]["detail"]


def test_an_unknown_flow_is_refused_at_its_attribute(http: Http, buyer: Buyer) -> None:
    order_id, token = http.place(buyer.shop, "stripe")

    answer = http.call("POST", f"/v1/orders/{order_id}/payments", 422,
                       http.action("payments", **{"stripe-flow": "redirect"}), token)  # fmt: skip

    assert answer["errors"][0]["source"] == {"pointer": "/data/attributes/stripe-flow"}


def test_a_checkout_page_that_expired_unpaid_ends_the_attempt(http: Http, buyer: Buyer, uow: Any) -> None:
    from boxoffice.payments.janitor import check_order
    from fakes.localstripe import API_KEY

    order_id, token = http.place(buyer.shop, "stripe")
    created = http.call("POST", f"/v1/orders/{order_id}/payments", 201,
                        http.action("payments", **{"stripe-flow": "checkout"}), token)["data"]["attributes"]  # fmt: skip
    session_id = created["details"]["redirect-url"].rsplit("/", 1)[1]
    with uow() as s:
        assert [(c.remote, c.outcome) for c in check_order(s, order_id, "user:admin")] == [("pending", "wait")]
    httpx.post(f"{buyer.base_url}/v1/checkout/sessions/{session_id}/expire",
               headers={"Authorization": f"Bearer {API_KEY}"}).raise_for_status()  # fmt: skip

    with uow() as s:
        check_order(s, order_id, "user:admin")

    payment = http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=token)["data"][0]["attributes"]
    assert payment["state"] == "canceled"


def test_the_expired_event_of_an_unpaid_checkout_page_ends_the_attempt_once(http: Http, buyer: Buyer) -> None:
    from fakes.localstripe import API_KEY

    order_id, token = http.place(buyer.shop, "stripe")
    created = http.call("POST", f"/v1/orders/{order_id}/payments", 201,
                        http.action("payments", **{"stripe-flow": "checkout"}), token)["data"]["attributes"]  # fmt: skip
    session_id = created["details"]["redirect-url"].rsplit("/", 1)[1]
    expired = httpx.post(f"{buyer.base_url}/v1/checkout/sessions/{session_id}/expire",
                         headers={"Authorization": f"Bearer {API_KEY}"}).json()  # fmt: skip
    event = stripe_events.event("checkout.session.expired", expired)

    assert buyer.deliver(event).status_code == 200
    assert buyer.deliver(event).status_code == 200

    payments = http.call("GET", f"/v1/orders/{order_id}/payments", 200, token=token)["data"]
    assert [p["attributes"]["state"] for p in payments] == ["canceled"]
    assert buyer.actions(order_id, "payment.canceled") == 1
