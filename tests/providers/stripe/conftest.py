"""Fixtures of the Stripe provider's tests: localstripe, a shop taking Stripe, and a buyer's toolkit."""

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
from fakes import stripe_events
from fakes.localstripe import API_KEY, create_payment_method
from providers.readback import ReadBack

SECRET = "whsec_conf_event_secret"
OTHER_SECRET = "whsec_other_event_secret"


def stripe_settings(secret: str = SECRET) -> dict[str, object]:
    return {"enabled": True, "secret-key": API_KEY, "publishable-key": "pk_test_x", "webhook-secret": secret}


@pytest.fixture
def stripe_shop(uow: Any, stripe_api: str) -> Shop:
    """A committed EUR event (Regular 49.00, Student 19.00) taking Stripe, with its own webhook secret."""
    with uow() as s:
        return make_shop(s, providers={"stripe": stripe_settings()})


class Buyer(ReadBack):
    """What a buyer, Stripe and the organizer do in these tests, as the services and HTTP do it."""

    def __init__(self, uow: Any, client: TestClient, base_url: str, shop: Shop) -> None:
        self.uow, self.client, self.base_url, self.shop = uow, client, base_url, shop

    def place(self, regular: int = 1) -> int:
        """A pending order of ``regular`` Regular tickets (49.00 each); its id."""
        with self.uow() as s:
            items = [LineItem(self.shop.regular_id, regular)]
            return orders.place_order(s, self.shop.event_id, email="b@example.org", items=items, actor="buyer").id

    def pay(self, order_id: int, card: str, amount: Decimal | None = None) -> PaymentOutcome:
        """Pay with a card through the checkout: the attempt is committed before Stripe is called."""
        token = create_payment_method(self.base_url, card)
        with self.uow() as s:
            payment_id = checkout.begin_payment(
                s, order_id, provider="stripe", actor="buyer", amount=amount, form_data={"stripe": token}
            ).id
        with self.uow() as s:
            return checkout.execute_payment(s, payment_id, actor="buyer")

    def follow(self, url: str) -> httpx.Response:
        """Open one of our absolute URLs (a return URL) in the test client, without following redirects."""
        parts = urlsplit(url)
        return self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)

    def deliver(self, event: dict[str, Any], secret: str = SECRET, timestamp: int | None = None) -> httpx.Response:
        """POST a Stripe event to ``/v1/webhooks/stripe``, signed as Stripe signs it."""
        body = stripe_events.dumps(event)
        headers = {"Stripe-Signature": stripe_events.sign(body, secret, timestamp), "Content-Type": "application/json"}
        return self.client.post("/v1/webhooks/stripe", content=body, headers=headers)

    def stripe(self, path: str, **params: Any) -> dict[str, Any]:
        """An object as localstripe has it."""
        answer = httpx.get(f"{self.base_url}{path}", params=params, headers={"Authorization": f"Bearer {API_KEY}"})
        answer.raise_for_status()
        return dict(answer.json())

    def dashboard_refund(self, intent_id: str, amount: int) -> str:
        """The organizer refunds in the Stripe dashboard (no metadata of ours); the refund's id."""
        answer = httpx.post(
            f"{self.base_url}/v1/refunds",
            data={"payment_intent": intent_id, "amount": str(amount)},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        answer.raise_for_status()
        return str(answer.json()["id"])


@pytest.fixture
def buyer(uow: Any, app: FastAPI, localstripe_url: str, stripe_shop: Shop) -> Buyer:
    return Buyer(uow, TestClient(app), localstripe_url, stripe_shop)
