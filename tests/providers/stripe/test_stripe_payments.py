"""Card payments through Stripe (localstripe on 127.0.0.1): write-ahead, declines, 3-D Secure, returns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from boxoffice.errors import PaymentDeclined
from boxoffice.payments import checkout
from boxoffice.payments.janitor import check_order
from boxoffice.payments.models import Payment
from boxoffice.providers.base import PaymentResult
from boxoffice.providers.registry import provider_for
from boxoffice.providers.stripe import settings as stripe_settings
from boxoffice.providers.stripe.rules import FULL_ID_KEY, PAYMENT_KEY
from fakes import stripe_events
from fakes.localstripe import CARD_3DS, CARD_DECLINED, CARD_OK, create_payment_method
from fakes.servers import black_hole, serve_asgi

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/stripe/conftest.py)
# The audit entries of a payment attempt that moved.
MOVES = ("pending", "confirmed", "failed", "canceled")


def test_a_card_payment_pays_the_order_and_names_our_attempt_at_stripe(buyer: Buyer) -> None:
    order_id = buyer.place()

    outcome = buyer.pay(order_id, CARD_OK)

    assert outcome.state == "confirmed" and outcome.redirect_url is None
    payment = buyer.payment(outcome.payment_id)
    assert payment.provider_reference and payment.provider_reference.startswith("pi_")
    assert payment.amount == Decimal("49.00") and payment.payment_date is not None
    assert buyer.order(order_id).status == "paid"
    intent = buyer.stripe(f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["amount"] == 4900 and intent["currency"] == "eur"
    assert intent["metadata"][PAYMENT_KEY] == str(payment.id)
    assert intent["metadata"][FULL_ID_KEY].endswith("-P-1")


def test_a_declined_card_fails_the_attempt_and_a_retry_is_a_new_attempt(buyer: Buyer) -> None:
    order_id = buyer.place()

    declined = buyer.pay(order_id, CARD_DECLINED)

    assert declined.state == "failed" and declined.message == "Your card was declined."
    with pytest.raises(PaymentDeclined, match=r"Your card was declined\."):
        declined.raise_if_declined()
    assert buyer.order(order_id).status == "pending"
    retried = buyer.pay(order_id, CARD_OK)
    assert retried.state == "confirmed" and retried.payment_id != declined.payment_id
    assert buyer.order(order_id).status == "paid"


def test_a_missing_or_foreign_token_is_refused_before_an_attempt_is_written(uow: Any, buyer: Buyer) -> None:
    order_id = buyer.place()
    for form, detail in (({}, "missing"), ({"stripe": "tok_visa"}, "PaymentMethod")):
        with pytest.raises(Exception) as refused, uow() as s:
            checkout.begin_payment(s, order_id, provider="stripe", actor="buyer", form_data=form)
        assert detail in str(refused.value)
        assert getattr(refused.value, "pointer", None) == "/data/attributes/stripe"
    assert buyer.order(order_id).payment_total == 0


def test_three_d_secure_sends_the_buyer_to_the_bank_and_the_return_confirms(buyer: Buyer) -> None:
    from fakes.localstripe import complete_3ds

    order_id = buyer.place()

    outcome = buyer.pay(order_id, CARD_3DS)

    assert outcome.state == "pending" and outcome.redirect_url
    back = complete_3ds(outcome.redirect_url)
    assert "/providers/stripe/return/" in back
    answer = buyer.follow(back)
    assert answer.status_code == 303
    order = buyer.order(order_id)
    assert answer.headers["location"].endswith(f"/order/{order.code}/{order.secret}/")
    assert f"/e/acme/conf/order/{order.code}/" in answer.headers["location"]
    assert order.status == "paid"


def test_the_return_and_the_webhook_confirm_the_payment_once(buyer: Buyer) -> None:
    from fakes.localstripe import complete_3ds

    order_id = buyer.place()
    outcome = buyer.pay(order_id, CARD_3DS)
    assert outcome.redirect_url
    back = complete_3ds(outcome.redirect_url)
    payment = buyer.payment(outcome.payment_id)
    event = stripe_events.payment_intent_succeeded(
        str(payment.provider_reference), amount=4900, currency="eur",
        metadata={PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id},
    )  # fmt: skip

    assert buyer.deliver(event).status_code == 200
    assert buyer.follow(back).status_code == 303
    assert buyer.follow(back).status_code == 303

    assert buyer.actions(order_id, "payment.confirmed") == 1
    assert buyer.actions(order_id, "order.paid") == 1


def test_a_failed_authentication_fails_the_attempt_on_return(buyer: Buyer) -> None:
    from fakes.localstripe import complete_3ds

    order_id = buyer.place()
    outcome = buyer.pay(order_id, CARD_3DS)
    assert outcome.redirect_url

    buyer.follow(complete_3ds(outcome.redirect_url, succeed=False))

    payment = buyer.payment(outcome.payment_id)
    assert payment.state == "failed"
    assert buyer.order(order_id).status == "pending"


def test_a_return_url_not_handed_out_by_us_is_not_found(buyer: Buyer) -> None:
    from fakes.localstripe import complete_3ds

    order_id = buyer.place()
    outcome = buyer.pay(order_id, CARD_3DS)
    assert outcome.redirect_url
    back = complete_3ds(outcome.redirect_url)
    forged = back.replace("sig=", "sig=0")

    assert buyer.follow(forged).status_code == 404
    assert buyer.client.get(f"/providers/stripe/return/{outcome.payment_id}").status_code == 404
    assert buyer.payment(outcome.payment_id).state == "pending"


def test_a_buyer_waiting_for_3ds_may_switch_and_the_intent_is_canceled_at_stripe(buyer: Buyer) -> None:
    order_id = buyer.place()
    waiting = buyer.pay(order_id, CARD_3DS)

    paid = buyer.pay(order_id, CARD_OK)

    assert paid.state == "confirmed"
    first = buyer.payment(waiting.payment_id)
    assert first.state == "canceled"
    assert buyer.stripe(f"/v1/payment_intents/{first.provider_reference}")["status"] == "canceled"


def test_jpy_is_charged_in_whole_yen(uow: Any, buyer: Buyer) -> None:
    from conftest import make_shop

    with uow() as s:
        providers = {"stripe": buyer.shop.event.payment_providers["stripe"]}
        yen = make_shop(s, currency="JPY", regular="1500", student="800", slug="yen", providers=providers)
    other = type(buyer)(buyer.uow, buyer.client, buyer.base_url, yen)
    order_id = other.place()

    outcome = other.pay(order_id, CARD_OK)

    payment = other.payment(outcome.payment_id)
    assert payment.amount == Decimal("1500")
    assert other.stripe(f"/v1/payment_intents/{payment.provider_reference}")["amount"] == 1500


def _timed_out(uow: Any, buyer: Buyer, monkeypatch: pytest.MonkeyPatch, card: str = CARD_OK) -> int:
    """An attempt whose create call got no answer (Stripe may or may not have made the intent)."""
    order_id = buyer.place()
    token = create_payment_method(buyer.base_url, card)
    with uow() as s:
        payment_id = checkout.begin_payment(
            s, order_id, provider="stripe", actor="buyer", form_data={"stripe": token}
        ).id
    with black_hole() as silent:
        monkeypatch.setenv("BOXOFFICE_STRIPE_API_BASE", silent)
        monkeypatch.setattr(stripe_settings, "TIMEOUT", 0.3)
        stripe_settings.get_settings.cache_clear()
        with uow() as s:
            outcome = checkout.execute_payment(s, payment_id, actor="buyer")
    assert outcome.state == "pending"
    return payment_id


def test_a_timeout_leaves_the_payment_pending_until_stripe_tells_us(
    uow: Any, buyer: Buyer, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment_id = _timed_out(uow, buyer, monkeypatch)
    payment = buyer.payment(payment_id)
    assert payment.state == "pending" and payment.provider_reference is None

    event = stripe_events.payment_intent_succeeded(
        "pi_made_before_the_timeout", amount=4900, currency="eur",
        metadata={PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id},
    )  # fmt: skip
    assert buyer.deliver(event).status_code == 200

    payment = buyer.payment(payment_id)
    assert (payment.state, payment.provider_reference) == ("confirmed", "pi_made_before_the_timeout")
    assert buyer.order(payment.order_id).status == "paid"


def _stripe_search(found: list[dict[str, Any]]) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def search(request: Request) -> JSONResponse:
        return JSONResponse({"object": "search_result", "data": found, "has_more": False, "next_page": None,
                             "url": "/v1/payment_intents/search"})  # fmt: skip

    return Starlette(routes=[Route("/v1/payment_intents/search", search)])


def test_the_janitor_finds_an_intent_made_before_the_timeout_by_our_metadata(
    uow: Any, buyer: Buyer, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment_id = _timed_out(uow, buyer, monkeypatch)
    payment = buyer.payment(payment_id)
    metadata = {PAYMENT_KEY: str(payment.id), FULL_ID_KEY: payment.full_id}
    foreign = stripe_events.payment_intent("pi_someone_else", amount=4900, currency="eur", status="succeeded",
                                           metadata={PAYMENT_KEY: str(payment.id), FULL_ID_KEY: "OTHER-P-1"})  # fmt: skip
    ours = stripe_events.payment_intent("pi_ours", amount=4900, currency="eur", status="succeeded", metadata=metadata)
    with serve_asgi(_stripe_search([foreign, ours])) as stripe_url:
        monkeypatch.setenv("BOXOFFICE_STRIPE_API_BASE", stripe_url)
        stripe_settings.get_settings.cache_clear()
        with uow() as s:
            checked = check_order(s, payment.order_id, "user:admin")

    assert [(c.remote, c.outcome) for c in checked] == [("confirmed", "confirm")]
    assert buyer.payment(payment_id).provider_reference == "pi_ours"


def test_an_attempt_stripe_never_received_fails_once_search_would_show_it(
    uow: Any, buyer: Buyer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.kit import clock

    payment_id = _timed_out(uow, buyer, monkeypatch)
    order_id = buyer.payment(payment_id).order_id
    with serve_asgi(_stripe_search([])) as stripe_url:
        monkeypatch.setenv("BOXOFFICE_STRIPE_API_BASE", stripe_url)
        stripe_settings.get_settings.cache_clear()
        with uow() as s:
            too_early = check_order(s, order_id, "user:admin")
        clock.travel(20 * 60)
        try:
            with uow() as s:
                later = check_order(s, order_id, "user:admin")
        finally:
            clock.travel(0)

    assert [(c.remote, c.outcome) for c in too_early] == [("unknown", "wait")]
    assert [(c.remote, c.outcome) for c in later] == [("failed", "fail")]
    assert buyer.payment(payment_id).state == "failed"


def test_the_janitor_confirms_a_payment_whose_buyer_never_returned(uow: Any, buyer: Buyer) -> None:
    from fakes.localstripe import complete_3ds

    order_id = buyer.place()
    outcome = buyer.pay(order_id, CARD_3DS)
    assert outcome.redirect_url
    complete_3ds(outcome.redirect_url)  # authenticated at the bank, browser closed before the return

    with uow() as s:
        checked = check_order(s, order_id, "user:admin")

    assert [(c.kind, c.remote, c.outcome) for c in checked] == [("payment", "confirmed", "confirm")]
    assert buyer.order(order_id).status == "paid"


@pytest.mark.parametrize(
    ("card", "state"), [(CARD_OK, "confirmed"), (CARD_DECLINED, "failed"), (CARD_3DS, "pending")]
)
def test_execute_payment_reports_the_intent_and_leaves_the_attempt_to_the_core(
    uow: Any, buyer: Buyer, card: str, state: str
) -> None:
    order_id = buyer.place()
    token = create_payment_method(buyer.base_url, card)
    with uow() as s:
        payment_id = checkout.begin_payment(s, order_id, provider="stripe", actor="buyer", form_data={"stripe": token}).id

    with uow() as s:
        payment = s.get(Payment, payment_id)
        result = provider_for(payment.order.event, "stripe", s).execute_payment(payment)
        assert isinstance(result, PaymentResult) and result.state == state
        assert result.reference and result.reference.startswith("pi_")
        assert (result.redirect_url is not None) == (state == "pending")

    # Committed as the provider left it: the attempt has not moved; only the core moves it.
    assert (buyer.payment(payment_id).state, buyer.payment(payment_id).provider_reference) == ("created", None)
    assert [buyer.actions(order_id, f"payment.{move}") for move in MOVES] == [0] * len(MOVES)
