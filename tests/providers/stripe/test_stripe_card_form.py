"""The shop's card form over HTTP: an attempt and its PaymentIntent for Stripe.js, and how Stripe's
answer — never the browser's — settles it (return, webhook, janitor)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, update

from boxoffice.kit.clock import now
from boxoffice.payments.janitor import check_order
from boxoffice.payments.models import Payment
from boxoffice.providers.stripe.rules import FULL_ID_KEY, PAYMENT_KEY
from conftest import make_shop
from fakes import stripe_events
from fakes.localstripe import CARD_DECLINED, CARD_OK, create_payment_method

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/stripe/conftest.py)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def order_page(buyer: Buyer, order_id: int) -> str:
    order = buyer.order(order_id)
    event = buyer.shop.event
    return f"/e/acme/{event.slug}/order/{order.code}/{order.secret}/"


def start(buyer: Buyer, order_id: int, expect: int = 200) -> dict[str, Any]:
    """What the order page's script does when the buyer presses "Pay": ask for an intent."""
    path = order_page(buyer, order_id)
    page = buyer.client.get(path)
    assert page.status_code == 200
    token = _TOKEN.search(page.text)
    assert token is not None
    answer = buyer.client.post(path + "stripe-intent", data={"csrf_token": token.group(1), "provider": "stripe"})
    assert answer.status_code == expect, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return dict(answer.json())


def confirm_in_browser(buyer: Buyer, client_secret: str, card: str) -> httpx.Response:
    """Stripe.js confirming the intent with the buyer's card: publishable key and client secret only."""
    intent_id = client_secret.split("_secret_")[0]
    return httpx.post(
        f"{buyer.base_url}/v1/payment_intents/{intent_id}/confirm",
        json={"key": "pk_test_x", "client_secret": client_secret, "payment_method": create_payment_method(buyer.base_url, card)},
    )


def intent_of(buyer: Buyer, payment_id: int) -> dict[str, Any]:
    return buyer.stripe(f"/v1/payment_intents/{buyer.payment(payment_id).provider_reference}")


def buyer_in(uow: Any, buyer: Buyer, currency: str, regular: str) -> Buyer:
    """The same buyer in another event of the organizer, taking Stripe in ``currency``."""
    with uow() as s:
        providers = {"stripe": buyer.shop.event.payment_providers["stripe"]}
        shop = make_shop(s, currency=currency, regular=regular, student=regular, slug=currency.lower(), providers=providers)
    return type(buyer)(buyer.uow, buyer.client, buyer.base_url, shop)


def only_payment(buyer: Buyer, order_id: int) -> Payment:
    with buyer.uow() as s:
        (payment_id,) = s.scalars(select(Payment.id).where(Payment.order_id == order_id)).all()
    return buyer.payment(payment_id)


def test_pay_writes_an_attempt_whose_intent_waits_for_the_card_and_names_it(buyer: Buyer) -> None:
    order_id = buyer.place(regular=2)

    started = start(buyer, order_id)

    payment = only_payment(buyer, order_id)
    assert payment.state == "pending" and payment.amount == Decimal("98.00")
    assert started["payment"] == payment.full_id
    assert started["client-secret"].startswith(f"{payment.provider_reference}_secret_")
    assert "/providers/stripe/return/" in started["return-url"] and "sig=" in started["return-url"]
    assert "client" not in str(payment.info)  # the secret is asked from Stripe, never stored
    intent = intent_of(buyer, payment.id)
    assert intent["status"] == "requires_payment_method" and intent["amount"] == 9800
    assert intent["metadata"][PAYMENT_KEY] == str(payment.id) and intent["metadata"][FULL_ID_KEY] == payment.full_id
    assert buyer.order(order_id).status == "pending"


def test_the_browser_confirming_then_the_return_and_the_webhook_pay_the_order_once(buyer: Buyer) -> None:
    order_id = buyer.place()
    started = start(buyer, order_id)
    assert confirm_in_browser(buyer, started["client-secret"], CARD_OK).status_code == 200
    payment = only_payment(buyer, order_id)
    event = stripe_events.payment_intent_succeeded(
        str(payment.provider_reference), amount=4900, currency="eur",
        metadata={PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id},
    )  # fmt: skip

    back = buyer.follow(started["return-url"])
    assert buyer.deliver(event).status_code == 200
    assert buyer.follow(started["return-url"]).status_code == 303

    assert back.status_code == 303 and back.headers["location"].endswith(order_page(buyer, order_id))
    assert buyer.order(order_id).status == "paid"
    assert buyer.actions(order_id, "payment.confirmed") == 1 and buyer.actions(order_id, "order.paid") == 1


def test_the_return_before_the_card_is_confirmed_changes_nothing(buyer: Buyer) -> None:
    order_id = buyer.place()
    started = start(buyer, order_id)

    back = buyer.follow(started["return-url"])

    assert only_payment(buyer, order_id).state == "pending"
    page = buyer.client.get(back.headers["location"]).text
    assert "Processing: waiting for Stripe to confirm your card payment." in page
    assert 'data-poll="' in page  # and the page reloads by itself once Stripe knows


def test_a_decline_fails_the_attempt_with_stripes_message_and_leads_back_to_the_card_form(buyer: Buyer) -> None:
    order_id = buyer.place()
    started = start(buyer, order_id)
    declined = confirm_in_browser(buyer, started["client-secret"], CARD_DECLINED)
    assert declined.status_code == 402 and declined.json()["error"]["type"] == "card_error"

    back = buyer.follow(started["return-url"])

    assert back.headers["location"].endswith("?provider=stripe#pay")
    payment = only_payment(buyer, order_id)
    assert payment.state == "failed" and payment.info["message"] == "Your card was declined."
    page = buyer.client.get(back.headers["location"].split("#")[0])
    assert re.search(r'id="stripe-card-error" role="alert">Your card was declined\.<', page.text)


def test_a_payment_failed_webhook_fails_the_waiting_attempt(buyer: Buyer) -> None:
    order_id = buyer.place()
    start(buyer, order_id)
    payment = only_payment(buyer, order_id)
    event = stripe_events.payment_intent_payment_failed(
        str(payment.provider_reference), amount=4900, currency="eur",
        metadata={PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id}, message="Your card has insufficient funds.",
    )  # fmt: skip

    assert buyer.deliver(event).status_code == 200

    failed = buyer.payment(payment.id)
    assert failed.state == "failed" and failed.info["message"] == "Your card has insufficient funds."


def test_pressing_pay_again_replaces_the_waiting_attempt_and_cancels_its_intent(buyer: Buyer) -> None:
    order_id = buyer.place()
    first = start(buyer, order_id)

    second = start(buyer, order_id)

    assert first["payment"] != second["payment"]
    with buyer.uow() as s:
        states = s.execute(select(Payment.state, Payment.provider_reference).where(Payment.order_id == order_id)
                           .order_by(Payment.local_id)).all()  # fmt: skip
    assert [state for state, _ in states] == ["canceled", "pending"]
    assert buyer.stripe(f"/v1/payment_intents/{states[0][1]}")["status"] == "canceled"


def test_the_janitor_gives_up_an_intent_left_without_a_card_and_cancels_it_at_stripe(uow: Any, buyer: Buyer) -> None:
    order_id = buyer.place()
    start(buyer, order_id)
    payment = only_payment(buyer, order_id)
    with uow() as s:
        checked = check_order(s, order_id, "user:admin")
    assert [(c.remote, c.outcome) for c in checked] == [("pending", "wait")]  # the buyer may be typing
    with uow() as s:
        s.execute(update(Payment).where(Payment.id == payment.id).values(created_at=now() - timedelta(hours=2)))

    with uow() as s:
        check_order(s, order_id, "user:admin")

    assert buyer.payment(payment.id).state == "canceled"
    assert intent_of(buyer, payment.id)["status"] == "canceled"


def test_a_page_without_its_form_token_starts_nothing(buyer: Buyer) -> None:
    order_id = buyer.place()

    answer = buyer.client.post(order_page(buyer, order_id) + "stripe-intent", data={"provider": "stripe"})

    assert answer.status_code == 403 and "form has expired" in answer.json()["error"]
    with buyer.uow() as s:
        assert s.scalars(select(Payment).where(Payment.order_id == order_id)).all() == []


def test_a_yen_order_gets_an_intent_in_whole_yen(uow: Any, buyer: Buyer) -> None:
    other = buyer_in(uow, buyer, "JPY", "1500")
    order_id = other.place()

    start(other, order_id)

    intent = intent_of(other, only_payment(other, order_id).id)
    assert (intent["amount"], intent["currency"]) == (1500, "jpy")


def test_a_three_decimal_amount_stripe_cannot_take_is_refused_before_any_attempt(uow: Any, buyer: Buyer) -> None:
    other = buyer_in(uow, buyer, "KWD", "12.345")
    order_id = other.place()

    refused = start(other, order_id, expect=422)

    assert refused["error"] == (
        "Stripe takes KWD amounts only in steps of 0.010, so 12.345 KWD cannot be paid by card. "
        "Please choose another payment method."
    )
    with uow() as s:
        assert s.scalars(select(Payment).where(Payment.order_id == order_id)).all() == []
