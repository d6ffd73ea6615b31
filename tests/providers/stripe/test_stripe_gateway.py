"""The Stripe wire layer against localstripe (127.0.0.1), plus the pure parts: amounts, parameters."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from boxoffice.providers.stripe.gateway import (
    STRIPE_API_VERSION,
    AmountNotSupported,
    GatewayConfigError,
    GatewayRequestError,
    GatewayUnavailable,
    IdempotencyConflict,
    SignatureInvalid,
    StripeGateway,
    from_minor_units,
    intent_params,
    supported_amount,
    to_minor_units,
    verify_event,
)
from fakes import stripe_events
from fakes.localstripe import (
    API_KEY,
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    complete_3ds,
    create_payment_method,
    running_localstripe,
)
from fakes.servers import black_hole, closed_port_url, serve_asgi


@pytest.fixture(scope="module")
def localstripe_url() -> Iterator[str]:
    with running_localstripe() as server:
        yield server.base_url


@pytest.fixture
def gateway(localstripe_url: str) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=localstripe_url)


def _raw(base_url: str, path: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}{path}", headers={"Authorization": f"Bearer {API_KEY}"})
    response.raise_for_status()
    return dict(response.json())


def _pay(gateway: StripeGateway, base_url: str, amount: str = "49.00", currency: str = "EUR") -> str:
    pm = create_payment_method(base_url, CARD_OK)
    result = gateway.charge(Decimal(amount), currency, pm, {"payment": "1"}, f"pay-{pm}")
    assert result.status == "succeeded"
    assert result.intent_id is not None
    return result.intent_id


# --- charges ------------------------------------------------------------------------------------


def test_card_charge_succeeds_and_names_intent_charge_and_amount(
    gateway: StripeGateway, localstripe_url: str
) -> None:
    pm = create_payment_method(localstripe_url, CARD_OK)

    result = gateway.charge(
        Decimal("49.00"), "EUR", pm, {"payment": "17", "order": "ABC12"}, "payment-17-1",
        description="boxoffice order ABC12",
    )  # fmt: skip

    assert result.status == "succeeded"
    assert result.intent_id and result.intent_id.startswith("pi_")
    assert result.charge_id and result.charge_id.startswith("ch_")
    assert (result.amount, result.currency) == (Decimal("49.00"), "EUR")
    assert result.failure_message is None and result.redirect_url is None


def test_charge_sends_minor_units_metadata_description_and_card_only(
    gateway: StripeGateway, localstripe_url: str
) -> None:
    pm = create_payment_method(localstripe_url, CARD_OK)

    result = gateway.charge(Decimal("49.00"), "EUR", pm, {"payment": 17}, "payment-17-2", description="ABC12")

    intent = _raw(localstripe_url, f"/v1/payment_intents/{result.intent_id}")
    assert intent["amount"] == 4900 and intent["currency"] == "eur"
    assert intent["metadata"] == {"payment": "17"}
    assert intent["description"] == "ABC12"
    assert intent["payment_method_types"] == ["card"]


def test_jpy_is_charged_without_minor_units(gateway: StripeGateway, localstripe_url: str) -> None:
    pm = create_payment_method(localstripe_url, CARD_OK)

    result = gateway.charge(Decimal("1500"), "JPY", pm, {}, "payment-jpy-1")

    assert result.status == "succeeded"
    assert (result.amount, result.currency) == (Decimal("1500"), "JPY")
    assert _raw(localstripe_url, f"/v1/payment_intents/{result.intent_id}")["amount"] == 1500


def test_declined_card_is_a_failed_result_with_stripes_message(
    gateway: StripeGateway, localstripe_url: str
) -> None:
    pm = create_payment_method(localstripe_url, CARD_DECLINED)

    result = gateway.charge(Decimal("49.00"), "EUR", pm, {"payment": "18"}, "payment-18-1")

    assert result.status == "failed"
    assert result.failure_message == "Your card was declined."
    assert result.failure_code == "generic_decline"
    assert result.intent_id and result.intent_id.startswith("pi_")
    assert gateway.retrieve(result.intent_id).status == "failed"


def test_unknown_payment_method_is_a_failed_result_without_intent(gateway: StripeGateway) -> None:
    result = gateway.charge(Decimal("49.00"), "EUR", "pm_doesnotexist", {}, "payment-19-1")

    assert result.status == "failed"
    assert result.intent_id is None
    assert result.failure_message


def test_three_d_secure_requires_action_then_succeeds_after_the_redirect(
    gateway: StripeGateway, localstripe_url: str
) -> None:
    pm = create_payment_method(localstripe_url, CARD_3DS)

    result = gateway.charge(
        Decimal("20.00"), "EUR", pm, {}, "payment-20-1", return_url="https://shop.test/return?p=20"
    )

    assert result.status == "requires_action"
    assert result.redirect_url and result.intent_id
    back = complete_3ds(result.redirect_url)
    assert back.startswith("https://shop.test/return?p=20&payment_intent=")
    assert gateway.retrieve(result.intent_id).status == "succeeded"


def test_failed_authentication_turns_the_intent_failed(gateway: StripeGateway, localstripe_url: str) -> None:
    pm = create_payment_method(localstripe_url, CARD_3DS)
    result = gateway.charge(Decimal("20.00"), "EUR", pm, {}, "payment-21-1", return_url="https://shop.test/r")
    assert result.redirect_url and result.intent_id

    complete_3ds(result.redirect_url, succeed=False)

    after = gateway.retrieve(result.intent_id)
    assert after.status == "failed"
    assert after.failure_message == "The provided PaymentMethod has failed authentication."


def test_cancel_an_intent_waiting_for_authentication(gateway: StripeGateway, localstripe_url: str) -> None:
    pm = create_payment_method(localstripe_url, CARD_3DS)
    result = gateway.charge(Decimal("20.00"), "EUR", pm, {}, "payment-22-1", return_url="https://shop.test/r")
    assert result.intent_id

    assert gateway.cancel(result.intent_id).status == "canceled"


def test_cancelling_a_succeeded_intent_is_a_request_error(gateway: StripeGateway, localstripe_url: str) -> None:
    intent_id = _pay(gateway, localstripe_url)

    with pytest.raises(GatewayRequestError):
        gateway.cancel(intent_id)


def test_retrieving_an_unknown_intent_is_a_request_error(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayRequestError) as caught:
        gateway.retrieve("pi_doesnotexist")
    assert caught.value.http_status == 404


# --- refunds ------------------------------------------------------------------------------------


def test_partial_then_remaining_refund(gateway: StripeGateway, localstripe_url: str) -> None:
    intent_id = _pay(gateway, localstripe_url)

    first = gateway.refund(intent_id, Decimal("10.00"), "EUR", {"refund": "1"}, "refund-1")
    second = gateway.refund(intent_id, Decimal("39.00"), "EUR", {"refund": "2"}, "refund-2")

    assert (first.status, first.amount) == ("succeeded", Decimal("10.00"))
    assert (second.status, second.amount) == ("succeeded", Decimal("39.00"))
    assert first.refund_id and first.refund_id != second.refund_id
    assert gateway.retrieve_refund(first.refund_id).status == "succeeded"
    charge = _raw(localstripe_url, f"/v1/charges/{first.charge_id}")
    assert charge["amount_refunded"] == 4900 and charge["refunded"] is True


def test_full_refund_by_charge_id_without_amount(gateway: StripeGateway, localstripe_url: str) -> None:
    pm = create_payment_method(localstripe_url, CARD_OK)
    paid = gateway.charge(Decimal("1500"), "JPY", pm, {}, "payment-jpy-2")
    assert paid.charge_id

    refund = gateway.refund(paid.charge_id, None, "JPY", {"refund": "3"}, "refund-3")

    assert (refund.status, refund.amount, refund.currency) == ("succeeded", Decimal("1500"), "JPY")
    assert refund.charge_id == paid.charge_id


def test_refunding_a_failed_payment_is_a_failed_result(gateway: StripeGateway, localstripe_url: str) -> None:
    pm = create_payment_method(localstripe_url, CARD_DECLINED)
    declined = gateway.charge(Decimal("49.00"), "EUR", pm, {}, "payment-23-1")
    assert declined.intent_id

    refund = gateway.refund(declined.intent_id, Decimal("49.00"), "EUR", {}, "refund-4")

    assert refund.status == "failed" and refund.refund_id is None
    assert refund.failure_message == "Cannot refund a failed payment."


# --- unknown outcomes and configuration ---------------------------------------------------------


def test_stopped_server_raises_gateway_unavailable() -> None:
    with running_localstripe() as server:
        gateway = StripeGateway(API_KEY, api_base=server.base_url)
        pm = create_payment_method(server.base_url, CARD_OK)
        server.stop()

        with pytest.raises(GatewayUnavailable):
            gateway.charge(Decimal("49.00"), "EUR", pm, {}, "payment-24-1")
        with pytest.raises(GatewayUnavailable):
            gateway.refund("pi_x", Decimal("1.00"), "EUR", {}, "refund-5")


def test_connection_refused_raises_gateway_unavailable() -> None:
    gateway = StripeGateway(API_KEY, api_base=closed_port_url())
    with pytest.raises(GatewayUnavailable):
        gateway.retrieve("pi_x")


def test_unanswered_request_times_out_as_unavailable() -> None:
    with black_hole() as url:
        gateway = StripeGateway(API_KEY, api_base=url, timeout=0.3)
        with pytest.raises(GatewayUnavailable):
            gateway.charge(Decimal("49.00"), "EUR", "pm_x", {}, "payment-25-1")


def _canned(status: int, error: dict[str, Any]) -> Starlette:
    async def answer(request: Request) -> JSONResponse:
        return JSONResponse({"error": error}, status_code=status)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (500, {"type": "api_error", "message": "Something went wrong on Stripe's end."}, GatewayUnavailable),
        (429, {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many"}, GatewayUnavailable),
        (409, {"type": "idempotency_error", "message": "A request is in progress"}, GatewayUnavailable),
        (
            400,
            {"type": "idempotency_error", "message": "Keys can only be reused with the same parameters"},
            IdempotencyConflict,
        ),
        (401, {"type": "invalid_request_error", "message": "Invalid API Key provided"}, GatewayConfigError),
        (403, {"type": "invalid_request_error", "message": "Restricted key"}, GatewayConfigError),
    ],
)
def test_unknown_outcomes_and_key_problems_raise_instead_of_failing_the_payment(
    status: int, error: dict[str, Any], expected: type[Exception]
) -> None:
    with serve_asgi(_canned(status, error)) as url:
        gateway = StripeGateway(API_KEY, api_base=url)
        with pytest.raises(expected):
            gateway.charge(Decimal("49.00"), "EUR", "pm_x", {}, "payment-26-1")
        with pytest.raises(expected):
            gateway.refund("pi_x", Decimal("1.00"), "EUR", {}, "refund-6")


def test_invalid_api_key_raises_config_error(localstripe_url: str) -> None:
    gateway = StripeGateway("not-a-secret-key", api_base=localstripe_url)
    with pytest.raises(GatewayConfigError):
        gateway.charge(Decimal("49.00"), "EUR", "pm_x", {}, "payment-27-1")


def test_requests_carry_the_pinned_version_and_the_idempotency_key() -> None:
    seen: list[httpx.Headers] = []

    async def record(request: Request) -> JSONResponse:
        seen.append(httpx.Headers(request.headers.raw))
        intent = {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 100,
                  "currency": "eur", "latest_charge": "ch_1"}  # fmt: skip
        return JSONResponse(intent)

    app = Starlette(routes=[Route("/v1/payment_intents", record, methods=["POST"])])
    with serve_asgi(app) as url:
        result = StripeGateway(API_KEY, api_base=url).charge(Decimal("1.00"), "EUR", "pm_1", {}, "payment-28-3")

    assert result.charge_id == "ch_1"
    assert seen[0]["stripe-version"] == STRIPE_API_VERSION
    assert seen[0]["idempotency-key"] == "payment-28-3"


def test_pinned_api_version_is_the_one_the_sdk_was_generated_for() -> None:
    assert STRIPE_API_VERSION == stripe._api_version._ApiVersion.CURRENT


def test_localstripe_listens_on_loopback_only_and_leaves_no_pickle(localstripe_url: str) -> None:
    pickle = Path("/tmp/localstripe.pickle")
    before = pickle.stat().st_mtime_ns if pickle.exists() else None
    port = int(localstripe_url.rsplit(":", 1)[1])

    created = httpx.post(
        f"{localstripe_url}/v1/customers", headers={"Authorization": f"Bearer {API_KEY}"}, data={"email": "a@b.c"}
    )

    assert created.status_code == 200 and localstripe_url.startswith("http://127.0.0.1:")
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("::1", port)) != 0  # not bound to every interface
    assert (pickle.stat().st_mtime_ns if pickle.exists() else None) == before


# --- pure parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("49.00", "EUR", 4900),
        ("0.5", "usd", 50),
        ("1500", "JPY", 1500),
        ("1000", "KRW", 1000),
        ("1.230", "KWD", 1230),
        ("5.120", "BHD", 5120),
        ("12.500", "JOD", 12500),
        ("5", "ISK", 500),  # Stripe writes ISK with two zero decimals
    ],
)
def test_minor_units_round_trip(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount)


def test_minor_units_keep_the_currency_exponent() -> None:
    assert str(from_minor_units(4900, "EUR")) == "49.00"
    assert str(from_minor_units(1500, "JPY")) == "1500"
    assert str(from_minor_units(1230, "KWD")) == "1.230"


@pytest.mark.parametrize(("amount", "currency"), [("49.001", "EUR"), ("1.5", "JPY"), ("5.5", "ISK")])
def test_minor_units_refuse_to_round(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match="more decimals"):
        to_minor_units(Decimal(amount), currency)


@pytest.mark.parametrize(("amount", "currency"), [("1.234", "KWD"), ("5.125", "BHD"), ("0.001", "JOD")])
def test_three_decimal_amounts_stripe_cannot_take_are_refused_clearly(amount: str, currency: str) -> None:
    # Stripe documents that the last of the three decimals must be 0; rounding would charge another amount.
    with pytest.raises(AmountNotSupported, match=rf"only in steps of 0\.010; {amount} {currency}"):
        to_minor_units(Decimal(amount), currency)
    assert not supported_amount(Decimal(amount), currency)
    assert supported_amount(Decimal(amount[:-1] + "0"), currency)


def test_minor_units_refuse_negative_and_float() -> None:
    with pytest.raises(ValueError):
        to_minor_units(Decimal("-1.00"), "EUR")
    with pytest.raises(TypeError):
        to_minor_units(1.5, "EUR")  # type: ignore[arg-type]


def test_intent_parameters_pin_cards_and_pass_a_payment_method() -> None:
    params = intent_params(Decimal("49.00"), "EUR", "pm_1", {"payment": 7}, "ABC12", "https://shop.test/r")

    assert params == {
        "amount": 4900, "currency": "eur", "confirm": True, "allowed_payment_method_types": ["card"],
        "metadata": {"payment": "7"}, "payment_method": "pm_1", "description": "ABC12",
        "return_url": "https://shop.test/r",
    }  # fmt: skip
    assert "automatic_payment_methods" not in params and "payment_method_types" not in params


def test_intent_parameters_use_a_confirmation_token_as_such() -> None:
    params = intent_params(Decimal("49.00"), "EUR", "ctoken_1", {}, None, None)

    assert params["confirmation_token"] == "ctoken_1"
    assert "payment_method" not in params and "return_url" not in params and "description" not in params
    assert json.dumps(params)  # plain JSON-able values only


# --- webhook events -----------------------------------------------------------------------------

SECRET = "whsec_test_boxoffice"


def _all_events() -> list[dict[str, Any]]:
    common = {"charge": "ch_1", "payment_intent": "pi_1", "amount": 4900, "currency": "eur"}
    return [
        stripe_events.payment_intent_succeeded("pi_1", amount=4900, currency="eur", metadata={"payment": "7"}),
        stripe_events.payment_intent_payment_failed("pi_1", amount=4900, currency="eur"),
        stripe_events.payment_intent_canceled("pi_1", amount=4900, currency="eur"),
        stripe_events.charge_refunded(
            "ch_1", payment_intent="pi_1", amount=4900, amount_refunded=1000, currency="eur"
        ),
        stripe_events.charge_refund_updated(
            "re_1", **common, status="failed", failure_reason="expired_or_canceled_card"
        ),
        stripe_events.charge_dispute_created("dp_1", **common),
        stripe_events.charge_dispute_closed("dp_1", **common, status="won"),
        stripe_events.charge_dispute_closed("dp_1", **common, status="lost"),
    ]


@pytest.mark.parametrize("event", _all_events(), ids=lambda e: f"{e['type']}-{e['data']['object']['status']}")
def test_signed_events_verify_and_parse_with_the_sdk(event: dict[str, Any]) -> None:
    body = stripe_events.dumps(event)
    header = stripe_events.sign(body, SECRET)

    verified = verify_event(body, header, SECRET)
    parsed = stripe.Webhook.construct_event(body, header, SECRET)

    assert verified == event
    assert parsed.type == event["type"]
    assert parsed.data.object.id == event["data"]["object"]["id"]


def test_our_signature_matches_the_sdks_own() -> None:
    body = stripe_events.dumps(_all_events()[0])
    expected = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, timestamp=1_700_000_000)
    assert stripe_events.sign(body, SECRET, timestamp=1_700_000_000) == expected


def test_event_results_read_like_the_gateway_answers() -> None:
    failed = stripe_events.payment_intent_payment_failed("pi_9", amount=1500, currency="jpy")
    body = stripe_events.dumps(failed)
    event = verify_event(body, stripe_events.sign(body, SECRET), SECRET)

    assert event["data"]["object"]["last_payment_error"]["message"] == "Your card was declined."
    assert event["data"]["object"]["status"] == "requires_payment_method"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, header: (body.replace(b"4900", b"9900"), header),
        lambda body, header: (body, stripe_events.sign(body, "whsec_other")),
        lambda body, header: (body, stripe_events.sign(body, SECRET, timestamp=1_000_000_000)),
        lambda body, header: (body, ""),
        lambda body, header: (body, "garbage"),
        lambda body, header: (b"\xff\xfe", stripe_events.sign(b"\xff\xfe", SECRET)),
        lambda body, header: (b"[1, 2]", stripe_events.sign(b"[1, 2]", SECRET)),
    ],
    ids=["altered-body", "other-secret", "too-old", "no-header", "garbage-header", "not-utf8", "not-an-event"],
)
def test_forged_or_unreadable_events_are_refused(tamper: Any) -> None:
    body = stripe_events.dumps(_all_events()[0])
    forged_body, forged_header = tamper(body, stripe_events.sign(body, SECRET))

    with pytest.raises(SignatureInvalid):
        verify_event(forged_body, forged_header, SECRET)
    with pytest.raises(SignatureInvalid):
        StripeGateway.verify_event(forged_body, forged_header, SECRET)
