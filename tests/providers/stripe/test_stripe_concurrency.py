"""The webhook and the buyer's return racing each other confirm a payment once (real PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from boxoffice.providers.stripe.rules import FULL_ID_KEY, PAYMENT_KEY
from components import postgres_url
from fakes import stripe_events
from fakes.localstripe import CARD_3DS, complete_3ds

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/stripe/conftest.py)


@pytest.mark.postgres
def test_webhooks_and_returns_at_once_confirm_the_payment_and_pay_the_order_once(buyer: Buyer, app: Any) -> None:
    postgres_url()
    order_id = buyer.place()
    outcome = buyer.pay(order_id, CARD_3DS)
    back = complete_3ds(str(outcome.redirect_url))
    payment = buyer.payment(outcome.payment_id)
    metadata = {PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id}
    # Stripe may send several events that each say the money is there (their ids differ).
    events = [
        stripe_events.payment_intent_succeeded(str(payment.provider_reference), amount=4900, currency="eur",
                                               metadata=metadata)
        for _ in range(4)
    ]  # fmt: skip

    def webhook(event: dict[str, Any]) -> int:
        return type(buyer)(buyer.uow, TestClient(app), buyer.base_url, buyer.shop).deliver(event).status_code

    def returning(_: int) -> int:
        return type(buyer)(buyer.uow, TestClient(app), buyer.base_url, buyer.shop).follow(back).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(webhook, event) for event in events] + [pool.submit(returning, n) for n in range(4)]
        answers = [future.result() for future in futures]

    assert answers == [200] * 4 + [303] * 4
    assert buyer.actions(order_id, "payment.confirmed") == 1
    assert buyer.actions(order_id, "order.paid") == 1
    assert buyer.order(order_id).payment_total == payment.amount
