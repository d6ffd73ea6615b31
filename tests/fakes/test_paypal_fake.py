"""The PayPal fake itself: PayPal's wire shapes, error bodies, links and webhook events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fakes.paypal import PayPalFake
from fakes.servers import serve_asgi


@pytest.fixture
def fake() -> Iterator[PayPalFake]:
    with PayPalFake().running() as running:
        yield running


def _token(fake: PayPalFake) -> dict[str, str]:
    answer = httpx.post(
        f"{fake.base_url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(fake.client_id, fake.client_secret),
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}", "Content-Type": "application/json"}


def _order_body(value: str = "49.00", currency: str = "EUR") -> dict[str, Any]:
    return {
        "intent": "CAPTURE",
        "purchase_units": [{"custom_id": "payment-1", "amount": {"currency_code": currency, "value": value}}],
        "payment_source": {"paypal": {"experience_context": {"return_url": "https://shop.test/r",
                                                             "cancel_url": "https://shop.test/c"}}},
    }  # fmt: skip


def _captured(fake: PayPalFake) -> tuple[str, str]:
    headers = _token(fake)
    order = httpx.post(f"{fake.base_url}/v2/checkout/orders", json=_order_body(), headers=headers).json()
    fake.approve(order["id"])
    done = httpx.post(f"{fake.base_url}/v2/checkout/orders/{order['id']}/capture", json={}, headers=headers)
    return order["id"], done.json()["purchase_units"][0]["payments"]["captures"][0]["id"]


def test_token_answer_has_paypals_fields(fake: PayPalFake) -> None:
    answer = httpx.post(
        f"{fake.base_url}/v1/oauth2/token", data={"grant_type": "client_credentials"},
        auth=(fake.client_id, fake.client_secret),
    )  # fmt: skip

    assert answer.status_code == 200
    assert {"scope", "access_token", "token_type", "app_id", "expires_in", "nonce"} <= answer.json().keys()
    assert answer.json()["token_type"] == "Bearer"


def test_bad_credentials_and_missing_token_answer_like_paypal(fake: PayPalFake) -> None:
    bad = httpx.post(f"{fake.base_url}/v1/oauth2/token", data={"grant_type": "client_credentials"}, auth=("x", "y"))
    anonymous = httpx.get(f"{fake.base_url}/v2/checkout/orders/ABC")

    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    assert (anonymous.status_code, anonymous.json()["name"]) == (401, "AUTHENTICATION_FAILURE")


def test_created_order_has_payer_action_link_and_minimal_shape(fake: PayPalFake) -> None:
    answer = httpx.post(f"{fake.base_url}/v2/checkout/orders", json=_order_body(), headers=_token(fake))

    order = answer.json()
    assert answer.status_code == 201
    assert order["status"] == "PAYER_ACTION_REQUIRED" and order["intent"] == "CAPTURE"
    assert {link["rel"] for link in order["links"]} == {"self", "payer-action"}
    assert order["purchase_units"][0]["payee"]["merchant_id"]
    assert not any(key.startswith("_") for key in order)


def test_application_context_orders_get_an_approve_link(fake: PayPalFake) -> None:
    body = _order_body()
    body["application_context"] = body.pop("payment_source")["paypal"]["experience_context"]

    order = httpx.post(f"{fake.base_url}/v2/checkout/orders", json=body, headers=_token(fake)).json()

    assert order["status"] == "CREATED"
    assert "approve" in {link["rel"] for link in order["links"]}


def test_errors_have_paypals_body(fake: PayPalFake) -> None:
    headers = _token(fake)
    too_precise = httpx.post(f"{fake.base_url}/v2/checkout/orders", json=_order_body("1.5", "JPY"), headers=headers)
    missing = httpx.get(f"{fake.base_url}/v2/checkout/orders/NOSUCHORDER", headers=headers)

    assert too_precise.status_code == 422
    error = too_precise.json()
    assert error["name"] == "UNPROCESSABLE_ENTITY" and error["debug_id"] and error["message"]
    assert error["details"][0]["issue"] == "DECIMAL_PRECISION" and error["details"][0]["description"]
    assert missing.status_code == 404
    assert missing.json()["details"][0] == {
        "issue": "INVALID_RESOURCE_ID", "field": "order_id", "value": "NOSUCHORDER", "location": "path",
        "description": "Specified resource ID does not exist. Please check the resource ID and try again.",
    }  # fmt: skip


def test_capture_answer_carries_capture_links_and_breakdown(fake: PayPalFake) -> None:
    order_id, capture_id = _captured(fake)

    capture = httpx.get(f"{fake.base_url}/v2/payments/captures/{capture_id}", headers=_token(fake)).json()

    assert capture["status"] == "COMPLETED" and capture["final_capture"] is True
    assert capture["supplementary_data"]["related_ids"]["order_id"] == order_id
    assert {link["rel"] for link in capture["links"]} == {"self", "refund", "up"}
    assert capture["seller_receivable_breakdown"]["gross_amount"] == {"currency_code": "EUR", "value": "49.00"}


def test_cancel_on_the_checkout_page_returns_to_the_cancel_url(fake: PayPalFake) -> None:
    order = httpx.post(f"{fake.base_url}/v2/checkout/orders", json=_order_body(), headers=_token(fake)).json()

    answer = httpx.get(f"{fake.base_url}/checkoutnow", params={"token": order["id"], "cancel": "1"})

    assert answer.headers["location"] == f"https://shop.test/c?token={order['id']}"
    assert fake.orders[order["id"]]["status"] == "PAYER_ACTION_REQUIRED"


@pytest.mark.parametrize(
    ("event_type", "resource_type"),
    [
        ("PAYMENT.CAPTURE.COMPLETED", "capture"),
        ("PAYMENT.CAPTURE.DECLINED", "capture"),
        ("PAYMENT.CAPTURE.REFUNDED", "refund"),
        ("PAYMENT.CAPTURE.REVERSED", "refund"),
        ("CUSTOMER.DISPUTE.CREATED", "dispute"),
        ("CUSTOMER.DISPUTE.RESOLVED", "dispute"),
    ],
)
def test_webhook_events_have_paypals_envelope(fake: PayPalFake, event_type: str, resource_type: str) -> None:
    order_id, capture_id = _captured(fake)
    if resource_type == "refund":
        if event_type.endswith("REVERSED"):
            object_id = fake.reverse_capture(capture_id)
        else:
            refund = httpx.post(f"{fake.base_url}/v2/payments/captures/{capture_id}/refund", json={},
                                headers=_token(fake)).json()  # fmt: skip
            object_id = refund["id"]
    elif resource_type == "dispute":
        object_id = fake.open_dispute(capture_id)
        if event_type.endswith("RESOLVED"):
            fake.resolve_dispute(object_id, "RESOLVED_BUYER_FAVOUR")
    else:
        object_id = capture_id

    event = fake.event(event_type, object_id)

    assert event["id"].startswith("WH-") and event["event_type"] == event_type
    assert event["resource_type"] == resource_type
    assert {"event_version", "create_time", "resource_version", "summary", "links"} <= event.keys()
    resource = event["resource"]
    if resource_type == "capture":
        assert resource["supplementary_data"]["related_ids"]["order_id"] == order_id
        assert resource["custom_id"] == "payment-1"
    elif resource_type == "refund":
        assert resource["amount"] == {"currency_code": "EUR", "value": "49.00"}
        assert any(link["rel"] == "up" and link["href"].endswith(capture_id) for link in resource["links"])
    else:
        assert resource["disputed_transactions"][0]["seller_transaction_id"] == capture_id
        if event_type.endswith("RESOLVED"):
            assert resource["dispute_outcome"]["outcome_code"] == "RESOLVED_BUYER_FAVOUR"


def test_deliver_posts_the_signed_event_with_transmission_headers(fake: PayPalFake) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def webhook(request: Request) -> JSONResponse:
        received.append((await request.body(), dict(request.headers)))
        return JSONResponse({})

    _, capture_id = _captured(fake)
    event = fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id)
    with serve_asgi(Starlette(routes=[Route("/v1/webhooks/paypal", webhook, methods=["POST"])])) as url:
        assert fake.deliver(f"{url}/v1/webhooks/paypal", event).status_code == 200

    body, headers = received[0]
    assert json.loads(body) == event
    for name in ("auth-algo", "cert-url", "transmission-id", "transmission-sig", "transmission-time"):
        assert headers[f"paypal-{name}"]


def test_refund_of_a_pending_capture_is_refused(fake: PayPalFake) -> None:
    headers = _token(fake)
    order = httpx.post(f"{fake.base_url}/v2/checkout/orders", json=_order_body(), headers=headers).json()
    fake.approve(order["id"])
    fake.pending_next_capture()
    done = httpx.post(f"{fake.base_url}/v2/checkout/orders/{order['id']}/capture", json={}, headers=headers).json()
    capture_id = done["purchase_units"][0]["payments"]["captures"][0]["id"]

    answer = httpx.post(f"{fake.base_url}/v2/payments/captures/{capture_id}/refund", json={}, headers=headers)

    assert (answer.status_code, answer.json()["details"][0]["issue"]) == (422, "PENDING_CAPTURE")


def test_refund_amount_is_checked_against_what_is_left(fake: PayPalFake) -> None:
    _, capture_id = _captured(fake)
    headers = _token(fake)
    url = f"{fake.base_url}/v2/payments/captures/{capture_id}/refund"

    first = httpx.post(url, json={"amount": {"currency_code": "EUR", "value": "40.00"}}, headers=headers)
    second = httpx.post(url, json={"amount": {"currency_code": "EUR", "value": "10.00"}}, headers=headers)
    wrong = httpx.post(url, json={"amount": {"currency_code": "USD", "value": "1.00"}}, headers=headers)

    assert first.status_code == 201 and fake.captures[capture_id]["status"] == "PARTIALLY_REFUNDED"
    assert second.json()["details"][0]["issue"] == "REFUND_AMOUNT_EXCEEDED"
    assert wrong.json()["details"][0]["issue"] == "REFUND_CAPTURE_CURRENCY_MISMATCH"
    assert Decimal(first.json()["amount"]["value"]) == Decimal("40.00")

