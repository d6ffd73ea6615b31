"""The sandbox provider end to end: cards, the confirmation page, refunds, callbacks, card data."""

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boxoffice.app import create_app
from boxoffice.errors import InvalidValue
from boxoffice.inbox.models import ProviderEvent
from boxoffice.inbox.service import handle
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments.checkout import begin_payment, pay
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.refunding import refund_now, refund_payment
from boxoffice.providers.registry import provider_for
from boxoffice.providers.sandbox import processor
from boxoffice.providers.sandbox.cards import read_card
from boxoffice.providers.sandbox.models import SandboxIntent
from components import postgres_url
from conftest import make_shop

D = Decimal
CARD = {"sandbox": "4242424242424242"}
ACTION = {"sandbox": "4000000000003220"}


@pytest.fixture
def client(database_url: str) -> TestClient:
    return TestClient(create_app())


def _order(uow: Any, shop: Any) -> int:
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        ).id


def _state(uow: Any, order_id: int) -> tuple[str, list[str]]:
    with uow() as s:
        order = s.get(Order, order_id)
        return order.status, [p.state for p in order.payments]


def test_a_successful_card_pays_the_order_from_the_synchronous_answer(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    assert outcome.state == "confirmed"
    assert _state(uow, order_id) == ("paid", ["confirmed"])
    with uow() as s:
        # The processor's answer is the provider's result; the inbox is for asynchronous callbacks only.
        assert s.scalars(select(ProviderEvent)).all() == []
        payment = s.get(Payment, outcome.payment_id)
        assert payment.provider_reference and payment.provider_reference.startswith("sbx_pi_")
        intent = s.scalars(select(SandboxIntent)).one()
        assert intent.meta == {"event": str(shop.event_id), "payment": payment.full_id}


def test_the_card_number_is_kept_nowhere_only_brand_and_last_four(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    with uow() as s:
        payment = s.scalars(select(Payment)).one()
        assert payment.info["card"] == {"brand": "visa", "last4": "4242"}
        stored = [payment.info, *(e.payload for e in s.scalars(select(ProviderEvent)))]
        stored += [{k: getattr(i, k) for k in ("meta", "card_last4", "card_brand")} for i in s.scalars(select(SandboxIntent))]
        assert "4242424242424242" not in json.dumps(stored, default=str)
        provider = provider_for(payment.order.event, "sandbox", s)
        assert provider.api_payment_details(payment) == {
            "intent-id": payment.provider_reference,
            "card-brand": "visa",
            "card-last4": "4242",
        }
        provider.shred_payment_info(payment)
        assert "card" not in payment.info and payment.provider_reference


def test_a_card_that_requires_action_is_confirmed_on_the_processors_page(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=ACTION, uow=uow)
    assert outcome.state == "pending" and outcome.redirect_url
    assert _state(uow, order_id) == ("pending", ["pending"])
    path = urlsplit(outcome.redirect_url).path
    page = client.get(path)
    assert page.status_code == 200 and "49.00 EUR" in page.text and "ending in 3220" in page.text
    with uow() as s:
        payment = s.get(Payment, outcome.payment_id)
        assert provider_for(payment.order.event, "sandbox", s).api_payment_details(payment)["confirm-url"]
    answered = client.post(path, data={"decision": "approve"})
    assert answered.status_code == 200 and "Payment approved" in answered.text
    assert _state(uow, order_id) == ("paid", ["confirmed"])
    assert client.get(path).status_code == 404  # the link is used up


def test_declining_on_the_confirmation_page_fails_the_attempt(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=ACTION, uow=uow)
    path = urlsplit(outcome.redirect_url).path
    answered = client.post(path, data={"decision": "decline"})
    assert "did not confirm" in answered.text
    assert _state(uow, order_id) == ("pending", ["failed"])


def test_the_confirmation_page_sends_the_buyer_back_to_this_site_only(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    form = {**ACTION, "return-url": "/orders/ABCDE/secret"}
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=form, uow=uow)
    path = urlsplit(outcome.redirect_url).path
    answered = client.post(path, data={"decision": "approve"}, follow_redirects=False)
    assert answered.status_code == 303 and answered.headers["location"] == "/orders/ABCDE/secret"
    for foreign in ("https://evil.example/", "//evil.example/x"):
        with pytest.raises(InvalidValue) as caught, uow() as s:
            begin_payment(s, order_id, provider="sandbox", actor="buyer", form_data={**ACTION, "return-url": foreign})
        assert caught.value.pointer == "/data/attributes/return-url"


def test_a_refund_made_in_the_processors_dashboard_becomes_an_external_refund_once(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    with uow() as s:
        intent_id = s.get(Payment, outcome.payment_id).provider_reference
        dashboard = processor.refund(s, intent_id, amount=1000)
    with uow() as s:
        refund = s.scalars(select(Refund)).one()
        assert (refund.state, refund.source, refund.amount) == ("external", "external", D("10.00"))
        assert refund.provider_reference == dashboard.refund_id and refund.payment_id == outcome.payment_id
        # The same refund reported again (another event id) is not recorded twice.
        body = processor.event_body(
            "refund.succeeded",
            {"id": dashboard.refund_id, "payment_intent": intent_id, "amount": 1000, "metadata": {}},
            created=0,
        )
        event = json.loads(body)
        row = ProviderEvent(
            provider="sandbox", external_id=event["id"], event_type=event["type"], payload=event, state="received"
        )
        s.add(row)
        s.flush()
        assert handle(s, row.id).state == "ignored"
        assert len(s.scalars(select(Refund)).all()) == 1


def test_refunds_full_and_partial_always_succeed(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    first = refund_now(outcome.payment_id, amount=D("9.00"), actor="user:1", uow=uow)
    rest = refund_now(outcome.payment_id, amount=D("40.00"), actor="user:1", uow=uow)
    assert (first.state, rest.state) == ("done", "done")
    assert first.provider_reference and first.provider_reference.startswith("sbx_re_")
    with uow() as s:
        assert s.get(Payment, outcome.payment_id).state == "refunded"
        assert s.get(Order, order_id).refund_total == D("49.00")


def test_amounts_travel_in_minor_units_for_every_currency(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, currency="JPY", regular="1500", student="800", slug="tokyo")
    order_id = _order(uow, shop)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=CARD, uow=uow)
    with uow() as s:
        assert s.scalars(select(SandboxIntent)).one().amount == 1500
        assert s.get(Payment, outcome.payment_id).amount == D("1500")
        assert s.get(Order, order_id).status == "paid"


def test_the_janitor_can_ask_the_processor_how_attempts_stand(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id = _order(uow, shop)
    outcome = pay(order_id, provider="sandbox", actor="buyer", form_data=ACTION, uow=uow)
    with uow() as s:
        payment = s.get(Payment, outcome.payment_id)
        provider = provider_for(payment.order.event, "sandbox", s)
        assert provider.fetch_payment_status(payment).state == "pending"
    client.post(urlsplit(outcome.redirect_url).path, data={"decision": "approve"})
    with uow() as s:
        payment = s.get(Payment, outcome.payment_id)
        provider = provider_for(payment.order.event, "sandbox", s)
        remote = provider.fetch_payment_status(payment)
        assert (remote.state, remote.amount) == ("confirmed", D("49.00"))
        never_sent = refund_payment(s, payment.id, amount=D("5.00"), actor="user:1", execute=False)
        assert provider.fetch_refund_status(never_sent).state == "failed"
    sent = refund_now(outcome.payment_id, amount=D("5.00"), actor="user:1", uow=uow)
    with uow() as s:
        refund = s.get(Refund, sent.id)
        remote = provider_for(refund.order.event, "sandbox", s).fetch_refund_status(refund)
        assert (remote.state, remote.amount) == ("done", D("5.00"))


def _create(uow: Any, key: str) -> str:
    with uow() as s:
        intent = processor.create_intent(
            s, amount=4900, currency="EUR", card=read_card("4242424242424242"), metadata={}, idempotency_key=key
        )
        return intent.intent_id


def test_the_same_idempotency_key_charges_one_intent(uow) -> None:  # type: ignore[no-untyped-def]
    first = _create(uow, "event-1:CODE-P-1")

    assert _create(uow, "event-1:CODE-P-1") == first
    other = _create(uow, "event-1:CODE-P-2")
    with uow() as s:
        assert sorted(s.scalars(select(SandboxIntent.intent_id))) == sorted([first, other]) and other != first


@pytest.mark.postgres
def test_racing_calls_with_one_idempotency_key_make_one_intent_on_postgresql(uow, database_url) -> None:  # type: ignore[no-untyped-def]
    postgres_url()
    racers = 6
    barrier = Barrier(racers)

    def race(_: int) -> str:
        barrier.wait()
        return _create(uow, "event-1:CODE-P-1")

    with ThreadPoolExecutor(max_workers=racers) as pool:
        made = set(pool.map(race, range(racers)))

    with uow() as s:
        assert made == set(s.scalars(select(SandboxIntent.intent_id)).all()) and len(made) == 1
