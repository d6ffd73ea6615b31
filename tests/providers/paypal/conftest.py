"""Fixtures of the PayPal provider's tests: the PayPal fake, a shop taking PayPal, and a buyer's toolkit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.payments import checkout
from boxoffice.payments.checkout import PaymentOutcome
from conftest import Shop, make_shop
from fakes.paypal import PayPalFake
from providers.readback import ReadBack


def paypal_settings(fake: PayPalFake) -> dict[str, object]:
    return {
        "enabled": True,
        "client-id": fake.client_id,
        "client-secret": fake.client_secret,
        "webhook-id": fake.webhook_id,
    }


@pytest.fixture
def fake(paypal_fake: PayPalFake) -> PayPalFake:
    return paypal_fake


class Buyer(ReadBack):
    """What a buyer, PayPal and the organizer do in these tests, as the services and HTTP do it."""

    def __init__(self, uow: Any, client: TestClient, fake: PayPalFake, shop: Shop) -> None:
        self.uow, self.client, self.fake, self.shop = uow, client, fake, shop

    def place(self, regular: int = 1, shop: Shop | None = None) -> int:
        """A pending order of ``regular`` Regular tickets (49.00 each); its id."""
        shop = shop or self.shop
        with self.uow() as s:
            items = [LineItem(shop.regular_id, regular)]
            return orders.place_order(s, shop.event_id, email="b@example.org", items=items, actor="buyer").id

    def pay(self, order_id: int, token: str | None = None, amount: Decimal | None = None) -> PaymentOutcome:
        """Start a PayPal attempt (with an approved order's id as token, or without: redirect)."""
        form = {"paypal": token} if token else {}
        with self.uow() as s:
            payment_id = checkout.begin_payment(
                s, order_id, provider="paypal", actor="buyer", amount=amount, form_data=form
            ).id
        with self.uow() as s:
            return checkout.execute_payment(s, payment_id, actor="buyer")

    def approve(self, approve_url: str) -> str:
        """The buyer approves on PayPal's page; returns where PayPal sends them back."""
        answer = httpx.get(approve_url, follow_redirects=False)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def follow(self, url: str) -> httpx.Response:
        """Open one of our absolute URLs (a return URL) in the test client, without following redirects."""
        parts = urlsplit(url)
        return self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)

    def deliver(self, event: dict[str, Any]) -> httpx.Response:
        """POST an event to ``/v1/webhooks/paypal`` with PayPal's transmission headers."""
        body, headers = self.fake.signed(event)
        return self.client.post("/v1/webhooks/paypal", content=body, headers=headers)

    def paypal(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Call the fake's REST API as the merchant (e.g. a refund made on PayPal's site)."""
        token = httpx.post(
            f"{self.fake.base_url}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self.fake.client_id, self.fake.client_secret),
        ).json()["access_token"]
        answer = httpx.request(
            method, f"{self.fake.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
        answer.raise_for_status()
        return dict(answer.json())

    def captured(self, order_id: int) -> tuple[int, str]:
        """Pay ``order_id`` with PayPal all the way (approve, return): the payment's id and capture id."""
        outcome = self.pay(order_id)
        assert outcome.redirect_url
        assert self.follow(self.approve(outcome.redirect_url)).status_code == 303
        payment = self.payment(outcome.payment_id)
        assert payment.state == "confirmed", payment.info
        return payment.id, str(payment.info["capture-id"])


@pytest.fixture
def paypal_shop(uow: Any, fake: PayPalFake) -> Shop:
    """A committed EUR event (Regular 49.00, Student 19.00) taking PayPal."""
    with uow() as s:
        return make_shop(s, providers={"paypal": paypal_settings(fake)})


@pytest.fixture
def buyer(uow: Any, app: FastAPI, fake: PayPalFake, paypal_shop: Shop) -> Buyer:
    return Buyer(uow, TestClient(app), fake, paypal_shop)
