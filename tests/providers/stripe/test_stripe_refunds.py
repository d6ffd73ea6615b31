"""Refunds through Stripe, and refunds made in the Stripe dashboard reported by ``charge.refunded``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from boxoffice.orders import service as orders
from boxoffice.payments import refunding
from boxoffice.providers.base import RefundResult
from boxoffice.providers.registry import provider_for
from boxoffice.providers.stripe.rules import FULL_ID_KEY, REFUND_KEY
from fakes import stripe_events
from fakes.localstripe import CARD_OK

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/stripe/conftest.py)
ADMIN = "user:admin@acme.example"


def _paid(buyer: Buyer, tickets: int = 1) -> tuple[int, int, str]:
    """A paid order: its id, the payment's id and the PaymentIntent's id."""
    order_id = buyer.place(tickets)
    outcome = buyer.pay(order_id, CARD_OK)
    intent_id = buyer.payment(outcome.payment_id).provider_reference
    return order_id, outcome.payment_id, str(intent_id)


def _charge_refunded(buyer: Buyer, intent_id: str, amount: int = 4900) -> dict[str, Any]:
    """The ``charge.refunded`` event Stripe sends after any refund of the intent's charge."""
    intent = buyer.stripe(f"/v1/payment_intents/{intent_id}")
    charge = intent["latest_charge"]
    charge_id = charge["id"] if isinstance(charge, dict) else charge
    refunded = buyer.stripe(f"/v1/charges/{charge_id}")["amount_refunded"]
    return stripe_events.charge_refunded(
        charge_id, payment_intent=intent_id, amount=amount, amount_refunded=refunded, currency="eur"
    )


def test_a_partial_then_the_remaining_refund_go_back_through_stripe(buyer: Buyer) -> None:
    order_id, payment_id, _intent_id = _paid(buyer, tickets=2)

    first = refunding.refund_now(payment_id, amount=Decimal("20.00"), actor=ADMIN, uow=buyer.uow)
    second = refunding.refund_now(payment_id, amount=Decimal("78.00"), actor=ADMIN, uow=buyer.uow)

    assert (first.state, second.state) == ("done", "done")
    assert [r[1:] for r in buyer.refunds(order_id)] == [
        ("done", Decimal("20.00"), first.provider_reference),
        ("done", Decimal("78.00"), second.provider_reference),
    ]
    at_stripe = buyer.stripe(f"/v1/refunds/{first.provider_reference}")
    assert at_stripe["amount"] == 2000
    assert at_stripe["metadata"][REFUND_KEY] == str(first.id)
    assert at_stripe["metadata"][FULL_ID_KEY] == f"{buyer.order(order_id).code}-R-1"
    assert buyer.payment(payment_id).state == "refunded"
    assert buyer.order(order_id).payment_state == "underpaid"  # paid order, all money back: owed again


def test_the_webhook_of_our_own_refund_records_nothing_more(buyer: Buyer) -> None:
    order_id, payment_id, intent_id = _paid(buyer)
    refunding.refund_now(payment_id, amount=Decimal("10.00"), actor=ADMIN, uow=buyer.uow)

    assert buyer.deliver(_charge_refunded(buyer, intent_id)).status_code == 200

    assert buyer.events() == [("charge.refunded", "processed")]
    assert [r[:2] for r in buyer.refunds(order_id)] == [("admin", "done")]


def test_a_refund_made_in_the_dashboard_becomes_an_external_refund_once(buyer: Buyer) -> None:
    order_id, _payment_id, intent_id = _paid(buyer)
    refund_id = buyer.dashboard_refund(intent_id, 1500)
    event = _charge_refunded(buyer, intent_id)

    assert buyer.deliver(event).status_code == 200
    replay = buyer.deliver(event)

    assert replay.json()["meta"] == {"received": 0, "duplicates": 1}
    assert buyer.refunds(order_id) == [("external", "external", Decimal("15.00"), refund_id)]
    order = buyer.order(order_id)
    assert order.has_open_refund and order.status == "paid"
    # A later refund in the dashboard: only the new one is recorded.
    second = buyer.dashboard_refund(intent_id, 500)
    buyer.deliver(_charge_refunded(buyer, intent_id))
    assert [r[2:] for r in buyer.refunds(order_id)] == [(Decimal("15.00"), refund_id), (Decimal("5.00"), second)]


def test_the_organizer_accepts_a_dashboard_refund_and_the_order_is_canceled(uow: Any, buyer: Buyer) -> None:
    order_id, _payment_id, intent_id = _paid(buyer)
    buyer.dashboard_refund(intent_id, 4900)
    buyer.deliver(_charge_refunded(buyer, intent_id))
    with uow() as s:
        refund = orders.lock_order(s, order_id).refunds[0]
        orders.accept_external_refund(s, refund.id, actor=ADMIN, then="cancel")

    assert buyer.refunds(order_id)[0][:2] == ("external", "done")
    order = buyer.order(order_id)
    assert (order.status, order.payment_state, order.has_open_refund) == ("canceled", "paid", False)


def test_a_dashboard_refund_that_fails_later_is_canceled(buyer: Buyer) -> None:
    order_id, _payment_id, intent_id = _paid(buyer)
    refund_id = buyer.dashboard_refund(intent_id, 4900)
    buyer.deliver(_charge_refunded(buyer, intent_id))
    charge_id = buyer.stripe(f"/v1/refunds/{refund_id}")["charge"]

    failed = stripe_events.charge_refund_updated(
        refund_id, charge=charge_id, payment_intent=intent_id, amount=4900, currency="eur", status="failed",
        previous_status="succeeded", failure_reason="expired_or_canceled_card",
    )  # fmt: skip
    assert buyer.deliver(failed).status_code == 200

    assert buyer.refunds(order_id) == [("external", "canceled", Decimal("49.00"), refund_id)]
    assert not buyer.order(order_id).has_open_refund


def test_a_refund_of_ours_that_fails_later_is_marked_failed(buyer: Buyer) -> None:
    order_id, payment_id, intent_id = _paid(buyer)
    refund = refunding.refund_now(payment_id, amount=Decimal("49.00"), actor=ADMIN, uow=buyer.uow)
    assert buyer.payment(payment_id).state == "refunded"
    at_stripe = buyer.stripe(f"/v1/refunds/{refund.provider_reference}")

    failed = stripe_events.charge_refund_updated(
        str(refund.provider_reference), charge=at_stripe["charge"], payment_intent=intent_id, amount=4900,
        currency="eur", status="failed", previous_status="pending", metadata=at_stripe["metadata"],
    )  # fmt: skip
    buyer.deliver(failed)

    # A done refund cannot fail in our books: the organizer is told to look at it instead.
    assert buyer.refunds(order_id)[0][1] == "done"
    assert buyer.actions(order_id, "refund.provider-disagrees") == 1


def test_an_event_about_our_refund_before_its_row_is_committed_waits(buyer: Buyer) -> None:
    order_id, _payment_id, intent_id = _paid(buyer)
    charge_id = buyer.stripe(f"/v1/payment_intents/{intent_id}")["latest_charge"]["id"]
    order = buyer.order(order_id)
    early = stripe_events.charge_refund_updated(
        "re_not_yet_ours", charge=charge_id, payment_intent=intent_id, amount=4900, currency="eur",
        status="succeeded", metadata={REFUND_KEY: "999999", FULL_ID_KEY: f"{order.code}-R-1"},
    )  # fmt: skip

    assert buyer.deliver(early).status_code == 200

    assert buyer.events() == [("charge.refund.updated", "received")]
    assert buyer.refunds(order_id) == []


def test_a_three_decimal_refund_stripe_cannot_take_fails_with_a_clear_message(uow: Any, buyer: Buyer) -> None:
    from conftest import make_shop

    with uow() as s:
        providers = {"stripe": buyer.shop.event.payment_providers["stripe"]}
        dinar = make_shop(s, currency="KWD", regular="12.340", student="5.000", slug="dinar", providers=providers)
    other = type(buyer)(buyer.uow, buyer.client, buyer.base_url, dinar)
    order_id, payment_id, intent_id = _paid(other)
    assert other.stripe(f"/v1/payment_intents/{intent_id}")["amount"] == 12340

    with pytest.raises(refunding.RefundDeclined, match=r"^Stripe refunds KWD only in steps of 0\.010; 1\.005 KWD "
                       r"must be given back another way\.$"):  # fmt: skip
        refunding.refund_now(payment_id, amount=Decimal("1.005"), actor=ADMIN, uow=buyer.uow)
    given_back = refunding.refund_now(payment_id, amount=Decimal("1.010"), actor=ADMIN, uow=buyer.uow)

    assert [r[1:3] for r in other.refunds(order_id)] == [("failed", Decimal("1.005")), ("done", Decimal("1.010"))]
    assert given_back.state == "done" and other.stripe(f"/v1/refunds/{given_back.provider_reference}")["amount"] == 1010


def test_execute_refund_reports_the_refund_and_leaves_it_to_the_core(buyer: Buyer) -> None:
    order_id, payment_id, _intent_id = _paid(buyer)
    with buyer.uow() as s:
        refund = refunding.refund_payment(s, payment_id, amount=Decimal("10.00"), actor=ADMIN, execute=False)
        result = provider_for(refund.order.event, "stripe", s).execute_refund(refund)
        assert isinstance(result, RefundResult)
        assert result.state == "done" and result.reference and result.reference.startswith("re_")
        assert (refund.state, refund.provider_reference) == ("created", None)

    assert [r[1] for r in buyer.refunds(order_id)] == ["created"]
