"""``POST /v1/webhooks/paypal``: verified by PayPal for the right webhook, stored once, outages retried."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from boxoffice.inbox.models import ProviderEvent
from conftest import make_shop
from jsonapi_schema import assert_jsonapi
from providers.paypal.conftest import paypal_settings

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/paypal/conftest.py)


def _pending_capture(buyer: Buyer) -> tuple[int, str]:
    """An order whose capture is PENDING at PayPal, now COMPLETED there: its id and the capture id."""
    order_id = buyer.place()
    outcome = buyer.pay(order_id)
    buyer.fake.pending_next_capture()
    buyer.follow(buyer.approve(str(outcome.redirect_url)))
    capture_id = str(buyer.payment(outcome.payment_id).info["capture-id"])
    buyer.fake.complete_pending(capture_id)
    return order_id, capture_id


def test_an_event_paypal_confirms_is_stored_and_applied(buyer: Buyer) -> None:
    order_id, capture_id = _pending_capture(buyer)

    answer = buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    assert answer.status_code == 200 and answer.json()["meta"] == {"received": 1, "duplicates": 0}
    assert_jsonapi(answer.json())
    assert buyer.fake.verification_calls[-1]["webhook_id"] == buyer.fake.webhook_id
    assert buyer.events() == [("PAYMENT.CAPTURE.COMPLETED", "processed")]
    assert buyer.order(order_id).status == "paid"


def test_a_replayed_event_has_no_second_effect(buyer: Buyer) -> None:
    order_id, capture_id = _pending_capture(buyer)
    event = buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id)
    buyer.deliver(event)

    again = buyer.deliver(event)

    assert again.json()["meta"] == {"received": 0, "duplicates": 1}
    assert buyer.actions(order_id, "payment.confirmed") == 1


def test_an_event_paypal_does_not_confirm_is_refused_and_nothing_is_stored(buyer: Buyer) -> None:
    order_id, capture_id = _pending_capture(buyer)
    buyer.fake.fail_signature_verification = True

    answer = buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "invalid-signature"
    assert buyer.events() == []
    assert buyer.order(order_id).status == "pending"


def test_an_altered_event_is_refused(buyer: Buyer) -> None:
    _order_id, capture_id = _pending_capture(buyer)
    body, headers = buyer.fake.signed(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    answer = buyer.client.post("/v1/webhooks/paypal", content=body.replace(b"49.00", b"99.00"), headers=headers)

    assert answer.status_code == 400
    assert buyer.events() == []


def test_an_event_without_transmission_headers_is_refused_without_asking_paypal(buyer: Buyer) -> None:
    _order_id, capture_id = _pending_capture(buyer)
    body, _headers = buyer.fake.signed(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    answer = buyer.client.post("/v1/webhooks/paypal", content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 400
    assert buyer.fake.verification_calls == []


def test_paypal_not_answering_the_verification_is_a_503_so_paypal_delivers_again(buyer: Buyer) -> None:
    order_id, capture_id = _pending_capture(buyer)
    event = buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id)
    buyer.fake.fail_next_request(503)

    answer = buyer.deliver(event)

    assert answer.status_code == 503 and answer.json()["errors"][0]["code"] == "provider-unavailable"
    assert_jsonapi(answer.json())
    assert buyer.events() == []
    assert buyer.deliver(event).status_code == 200
    assert buyer.order(order_id).status == "paid"


def test_an_event_verified_for_another_webhook_is_refused(uow: Any, buyer: Buyer) -> None:
    order_id, capture_id = _pending_capture(buyer)
    with uow() as s:
        shop = s.merge(buyer.shop.event)
        settings = dict(shop.payment_providers["paypal"])
        shop.payment_providers = {"paypal": {**settings, "webhook-id": "WH-SOMEONE-ELSE"}}

    answer = buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    assert answer.status_code == 400
    assert buyer.order(order_id).status == "pending"


def _capture_made_at_paypal(buyer: Buyer) -> str:
    """The id of a capture made at PayPal outside boxoffice."""
    created = buyer.paypal("POST", "/v2/checkout/orders", json={
        "intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "EUR", "value": "5.00"}}],
    })  # fmt: skip
    buyer.fake.approve(created["id"])
    done = buyer.paypal("POST", f"/v2/checkout/orders/{created['id']}/capture", json={})
    return str(done["purchase_units"][0]["payments"]["captures"][0]["id"])


def test_an_event_about_nothing_of_ours_is_stored_for_its_organizer_and_ignored(uow: Any, buyer: Buyer) -> None:
    capture_id = _capture_made_at_paypal(buyer)

    assert buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id)).status_code == 200

    assert buyer.events() == [("PAYMENT.CAPTURE.COMPLETED", "ignored")]
    with uow() as s:
        assert s.scalars(select(ProviderEvent.organizer_id)).one() == buyer.shop.event.organizer_id


def test_only_the_apps_of_events_are_asked_and_a_foreign_event_is_refused(uow: Any, buyer: Buyer) -> None:
    with uow() as s:
        make_shop(s, slug="plain", organizer="globex", providers={"manual": {"enabled": True}})
    buyer.fake.fail_signature_verification = True

    answer = buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", _pending_capture(buyer)[1]))

    assert answer.status_code == 400
    assert len(buyer.fake.verification_calls) == 1


def test_a_forged_callback_about_nothing_of_ours_asks_paypal_nothing_when_several_apps_could_be_meant(
    uow: Any, buyer: Buyer
) -> None:
    with uow() as s:
        for index in range(12):
            settings = {**paypal_settings(buyer.fake), "webhook-id": f"WH-OTHER-{index}"}
            make_shop(s, slug=f"other-{index}", organizer=f"org-{index}", providers={"paypal": settings})
    buyer.fake.fail_signature_verification = True

    answer = buyer.deliver(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", _capture_made_at_paypal(buyer)))

    assert answer.status_code == 200 and answer.json()["meta"] == {"received": 0, "duplicates": 0}
    assert buyer.fake.verification_calls == [] and buyer.events() == []


def test_one_forged_callback_sent_again_and_again_asks_paypal_once(buyer: Buyer) -> None:
    _order_id, capture_id = _pending_capture(buyer)
    buyer.fake.fail_signature_verification = True
    body, headers = buyer.fake.signed(buyer.fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    answers = [buyer.client.post("/v1/webhooks/paypal", content=body, headers=headers) for _ in range(5)]

    assert [a.status_code for a in answers] == [400] * 5
    assert len(buyer.fake.verification_calls) == 1 and buyer.events() == []
