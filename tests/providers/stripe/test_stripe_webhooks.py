"""``POST /v1/webhooks/stripe``: signatures checked with the right event's secret, replays, disputes."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.inbox.models import ProviderEvent
from boxoffice.providers.stripe.rules import FULL_ID_KEY, PAYMENT_KEY
from conftest import make_shop
from fakes import stripe_events
from fakes.localstripe import CARD_3DS, CARD_OK
from jsonapi_schema import assert_jsonapi

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/stripe/conftest.py)
OTHER_SECRET = "whsec_other_event_secret"


def _waiting(buyer: Buyer) -> tuple[int, Any]:
    """An order whose card payment waits for 3-D Secure: its id and the payment."""
    order_id = buyer.place()
    outcome = buyer.pay(order_id, CARD_3DS)
    return order_id, buyer.payment(outcome.payment_id)


def _succeeded(payment: Any, amount: int = 4900) -> dict[str, Any]:
    return stripe_events.payment_intent_succeeded(
        str(payment.provider_reference), amount=amount, currency="eur",
        metadata={PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id},
    )  # fmt: skip


def _charge_of(buyer: Buyer, intent_id: str) -> str:
    return str(buyer.stripe(f"/v1/payment_intents/{intent_id}")["latest_charge"]["id"])


def test_a_signed_event_confirms_the_payment(buyer: Buyer) -> None:
    order_id, payment = _waiting(buyer)

    answer = buyer.deliver(_succeeded(payment))

    assert answer.status_code == 200 and answer.json()["meta"] == {"received": 1, "duplicates": 0}
    assert_jsonapi(answer.json())
    assert buyer.events() == [("payment_intent.succeeded", "processed")]
    assert buyer.order(order_id).status == "paid"
    with buyer.uow() as s:
        stored = s.scalars(select(ProviderEvent)).one()
        assert (stored.order_id, stored.organizer_id) == (order_id, buyer.shop.event.organizer_id)


def test_a_replayed_event_has_no_second_effect(buyer: Buyer) -> None:
    order_id, payment = _waiting(buyer)
    event = _succeeded(payment)
    buyer.deliver(event)

    again = buyer.deliver(event)

    assert again.status_code == 200 and again.json()["meta"] == {"received": 0, "duplicates": 1}
    assert buyer.events() == [("payment_intent.succeeded", "processed")]
    assert buyer.actions(order_id, "payment.confirmed") == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, header: (body, None),
        lambda body, header: (body.replace(b"4900", b"9900"), header),
        lambda body, header: (body, stripe_events.sign(body, "whsec_guessed")),
        lambda body, header: (body, stripe_events.sign(body, "whsec_conf_event_secret", int(time.time()) - 600)),
        lambda body, header: (body, stripe_events.sign(body, "whsec_conf_event_secret", int(time.time()) + 600)),
        lambda body, header: (b"not json", stripe_events.sign(b"not json", "whsec_conf_event_secret")),
    ],
    ids=["unsigned", "altered", "wrong-secret", "too-old", "from-the-future", "not-an-event"],
)
def test_a_forged_event_is_refused_and_nothing_is_stored(buyer: Buyer, forge: Any) -> None:
    _order_id, payment = _waiting(buyer)
    body = stripe_events.dumps(_succeeded(payment))
    body, header = forge(body, stripe_events.sign(body, "whsec_conf_event_secret"))
    headers = {"Content-Type": "application/json"} | ({"Stripe-Signature": header} if header else {})

    answer = buyer.client.post("/v1/webhooks/stripe", content=body, headers=headers)

    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "invalid-signature"
    assert_jsonapi(answer.json())
    assert buyer.events() == []
    assert buyer.payment(payment.id).state == "pending"


def test_an_event_signed_with_another_events_secret_is_refused(uow: Any, buyer: Buyer) -> None:
    from fakes.localstripe import API_KEY

    with uow() as s:
        settings = {"enabled": True, "secret-key": API_KEY, "webhook-secret": OTHER_SECRET}
        make_shop(s, slug="other", organizer="mallory", providers={"stripe": settings})
    order_id, payment = _waiting(buyer)

    answer = buyer.deliver(_succeeded(payment), secret=OTHER_SECRET)

    assert answer.status_code == 400
    assert buyer.events() == []
    assert buyer.order(order_id).status == "pending"


def test_an_event_about_nothing_of_ours_is_stored_for_its_organizer_and_ignored(buyer: Buyer) -> None:
    event = stripe_events.payment_intent_succeeded("pi_of_another_shop", amount=1000, currency="eur")

    assert buyer.deliver(event).status_code == 200

    assert buyer.events() == [("payment_intent.succeeded", "ignored")]
    with buyer.uow() as s:
        assert s.scalars(select(ProviderEvent.organizer_id)).one() == buyer.shop.event.organizer_id


def test_an_unhandled_event_type_is_stored_and_ignored(buyer: Buyer) -> None:
    _order_id, payment = _waiting(buyer)
    intent = stripe_events.payment_intent(
        str(payment.provider_reference), amount=4900, currency="eur", status="requires_action",
        metadata={PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id},
    )  # fmt: skip

    buyer.deliver(stripe_events.event("payment_intent.requires_action", intent))

    assert buyer.events() == [("payment_intent.requires_action", "ignored")]


@pytest.mark.parametrize(
    ("build", "state"),
    [(stripe_events.payment_intent_payment_failed, "failed"), (stripe_events.payment_intent_canceled, "canceled")],
    ids=["failed", "canceled"],
)
def test_a_failed_or_canceled_intent_ends_the_waiting_attempt(buyer: Buyer, build: Any, state: str) -> None:
    order_id, payment = _waiting(buyer)
    metadata = {PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id}

    buyer.deliver(build(str(payment.provider_reference), amount=4900, currency="eur", metadata=metadata))

    assert buyer.payment(payment.id).state == state
    assert buyer.order(order_id).status == "pending"


def test_a_late_failure_does_not_undo_a_confirmed_payment(buyer: Buyer) -> None:
    order_id, payment = _waiting(buyer)
    metadata = {PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id}
    buyer.deliver(_succeeded(payment))

    buyer.deliver(stripe_events.payment_intent_payment_failed(str(payment.provider_reference), amount=4900,
                                                              currency="eur", metadata=metadata))  # fmt: skip

    assert buyer.payment(payment.id).state == "confirmed"
    assert buyer.order(order_id).status == "paid"


def _paid(buyer: Buyer) -> tuple[int, Any, str]:
    order_id = buyer.place()
    payment = buyer.payment(buyer.pay(order_id, CARD_OK).payment_id)
    return order_id, payment, _charge_of(buyer, str(payment.provider_reference))


def _dispute(buyer: Buyer, payment: Any, charge_id: str, status: str | None = None, amount: int = 4900) -> Any:
    intent_id = str(payment.provider_reference)
    if status is None:
        return stripe_events.charge_dispute_created("dp_1", charge=charge_id, payment_intent=intent_id,
                                                    amount=amount, currency="eur")  # fmt: skip
    return stripe_events.charge_dispute_closed("dp_1", charge=charge_id, payment_intent=intent_id, amount=amount,
                                               currency="eur", status=status)  # fmt: skip


def test_a_dispute_becomes_an_external_refund_waiting_for_the_organizer(buyer: Buyer) -> None:
    order_id, payment, charge_id = _paid(buyer)

    buyer.deliver(_dispute(buyer, payment, charge_id, amount=3000))

    assert buyer.refunds(order_id) == [("external", "external", Decimal("30.00"), "dp_1")]
    order = buyer.order(order_id)
    assert order.has_open_refund and order.status == "paid"


def test_a_won_dispute_is_noted_and_its_waiting_refund_canceled(buyer: Buyer) -> None:
    order_id, payment, charge_id = _paid(buyer)
    buyer.deliver(_dispute(buyer, payment, charge_id))

    buyer.deliver(_dispute(buyer, payment, charge_id, status="won"))

    assert buyer.refunds(order_id) == [("external", "canceled", Decimal("49.00"), "dp_1")]
    assert buyer.actions(order_id, "payment.dispute-won") == 1
    order = buyer.order(order_id)
    assert (order.status, order.payment_state, order.has_open_refund) == ("paid", "paid", False)


def test_a_lost_dispute_is_noted_and_its_refund_still_waits(buyer: Buyer) -> None:
    order_id, payment, charge_id = _paid(buyer)
    buyer.deliver(_dispute(buyer, payment, charge_id))

    buyer.deliver(_dispute(buyer, payment, charge_id, status="lost"))

    assert buyer.refunds(order_id)[0][1] == "external"
    assert buyer.actions(order_id, "payment.dispute-lost") == 1


def test_an_inquiry_takes_no_money_and_is_only_noted(buyer: Buyer) -> None:
    order_id, payment, charge_id = _paid(buyer)
    inquiry = stripe_events.dispute("dp_2", charge=charge_id, payment_intent=str(payment.provider_reference),
                                    amount=4900, currency="eur", status="warning_needs_response")  # fmt: skip

    buyer.deliver(stripe_events.event("charge.dispute.created", inquiry))

    assert buyer.refunds(order_id) == []
    assert buyer.actions(order_id, "payment.dispute-inquiry") == 1


def test_a_dispute_event_signed_by_another_organizer_is_refused(uow: Any, buyer: Buyer) -> None:
    from fakes.localstripe import API_KEY

    with uow() as s:
        settings = {"enabled": True, "secret-key": API_KEY, "webhook-secret": OTHER_SECRET}
        make_shop(s, slug="other", organizer="mallory", providers={"stripe": settings})
    order_id, payment, charge_id = _paid(buyer)

    assert buyer.deliver(_dispute(buyer, payment, charge_id), secret=OTHER_SECRET).status_code == 400

    assert buyer.refunds(order_id) == []
