"""The PayPal wire layer against the PayPal fake on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from boxoffice.providers.paypal.client import (
    PayPalClient,
    PayPalConfigError,
    PayPalDeclined,
    PayPalNotFound,
    PayPalUnavailable,
    format_amount,
)
from fakes.paypal import PayPalFake
from fakes.servers import black_hole, closed_port_url

RETURN_URL = "https://shop.test/paypal/return?payment=7"
CANCEL_URL = "https://shop.test/paypal/cancel?payment=7"


@pytest.fixture
def fake() -> Iterator[PayPalFake]:
    with PayPalFake().running() as running:
        yield running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(fake: PayPalFake, clock: Clock) -> Iterator[PayPalClient]:
    with PayPalClient(fake.client_id, fake.client_secret, fake.base_url, timeout=5, clock=clock) as paypal:
        yield paypal


def _order(client: PayPalClient, amount: str = "49.00", currency: str = "EUR", request_id: str = "p7-1") -> str:
    order = client.create_order(Decimal(amount), currency, "payment-7", request_id, RETURN_URL, CANCEL_URL, "ABC12")
    return order.id


def _captured(client: PayPalClient, fake: PayPalFake, amount: str = "49.00", currency: str = "EUR") -> str:
    order_id = _order(client, amount, currency)
    fake.approve(order_id)
    capture = client.capture_order(order_id, "capture-p7-1")
    assert capture.capture_id and capture.capture_status == "COMPLETED"
    return capture.capture_id


# --- orders and captures ------------------------------------------------------------------------


def test_create_order_sends_capture_intent_amount_custom_id_and_urls(client: PayPalClient, fake: PayPalFake) -> None:
    order = client.create_order(
        Decimal("49.00"), "EUR", "payment-7", "p7-1", RETURN_URL, CANCEL_URL, "boxoffice order ABC12"
    )

    assert order.status == "PAYER_ACTION_REQUIRED"
    assert order.approve_url == f"{fake.base_url}/checkoutnow?token={order.id}"
    assert (order.amount, order.currency, order.custom_id) == (Decimal("49.00"), "EUR", "payment-7")
    stored = fake.orders[order.id]
    assert stored["intent"] == "CAPTURE"
    assert stored["purchase_units"][0]["amount"] == {"currency_code": "EUR", "value": "49.00"}
    assert (stored["_return_url"], stored["_cancel_url"]) == (RETURN_URL, CANCEL_URL)
    assert ("POST", "/v2/checkout/orders", "p7-1") in fake.requests


def test_jpy_order_amount_has_no_decimals(client: PayPalClient, fake: PayPalFake) -> None:
    order = client.create_order(Decimal("1500"), "JPY", "payment-8", "p8-1", RETURN_URL, CANCEL_URL)

    assert fake.orders[order.id]["purchase_units"][0]["amount"] == {"currency_code": "JPY", "value": "1500"}
    assert order.amount == Decimal("1500")


def test_same_request_id_creates_one_order(client: PayPalClient, fake: PayPalFake) -> None:
    first = client.create_order(Decimal("49.00"), "EUR", "payment-7", "p7-1", RETURN_URL, CANCEL_URL)
    again = client.create_order(Decimal("49.00"), "EUR", "payment-7", "p7-1", RETURN_URL, CANCEL_URL)
    other = client.create_order(Decimal("49.00"), "EUR", "payment-7", "p7-2", RETURN_URL, CANCEL_URL)

    assert first.id == again.id != other.id
    assert len(fake.orders) == 2


def test_create_approve_capture_succeeds(client: PayPalClient, fake: PayPalFake) -> None:
    order_id = _order(client)
    fake.approve(order_id)
    assert client.get_order(order_id).status == "APPROVED"

    capture = client.capture_order(order_id, "capture-p7-1")

    assert capture.order_status == "COMPLETED"
    assert capture.capture_status == "COMPLETED"
    assert (capture.amount, capture.currency, capture.custom_id) == (Decimal("49.00"), "EUR", "payment-7")
    assert capture.order_id == order_id and capture.failure_message is None
    order = client.get_order(order_id)
    assert (order.status, order.capture_id, order.capture_status) == ("COMPLETED", capture.capture_id, "COMPLETED")
    assert order.approve_url is None and order.payer_id


def test_buyer_approval_through_the_approve_url_returns_to_the_shop(client: PayPalClient, fake: PayPalFake) -> None:
    order = client.create_order(Decimal("10.00"), "EUR", "payment-9", "p9-1", RETURN_URL, CANCEL_URL)
    assert order.approve_url

    answer = httpx.get(order.approve_url)

    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == "https://shop.test/paypal/return"
    query = parse_qs(back.query)
    assert query["payment"] == ["7"] and query["token"] == [order.id] and query["PayerID"]
    assert client.capture_order(order.id, "capture-p9-1").capture_status == "COMPLETED"


def test_capturing_twice_with_the_same_request_id_replays_the_capture(client: PayPalClient, fake: PayPalFake) -> None:
    order_id = _order(client)
    fake.approve(order_id)

    first = client.capture_order(order_id, "capture-p7-1")
    again = client.capture_order(order_id, "capture-p7-1")

    assert first == again
    assert len(fake.captures) == 1


def test_capture_after_a_lost_answer_reads_the_existing_capture(client: PayPalClient, fake: PayPalFake) -> None:
    order_id = _order(client)
    fake.approve(order_id)
    first = client.capture_order(order_id, "capture-p7-1")

    # a new request id meets PayPal's ORDER_ALREADY_CAPTURED; the client answers with what happened
    again = client.capture_order(order_id, "capture-p7-2")

    assert again.capture_id == first.capture_id and again.capture_status == "COMPLETED"


def test_capturing_an_unapproved_order_is_declined(client: PayPalClient) -> None:
    order_id = _order(client)

    with pytest.raises(PayPalDeclined) as caught:
        client.capture_order(order_id, "capture-p7-1")

    assert caught.value.issue == "ORDER_NOT_APPROVED"
    assert caught.value.http_status == 422 and caught.value.debug_id


def test_declined_instrument_raises_declined_with_paypals_description(client: PayPalClient, fake: PayPalFake) -> None:
    order_id = _order(client)
    fake.approve(order_id)
    fake.decline_next_capture("INSTRUMENT_DECLINED")

    with pytest.raises(PayPalDeclined) as caught:
        client.capture_order(order_id, "capture-p7-1")

    assert caught.value.issue == "INSTRUMENT_DECLINED"
    assert "declined by the processor or bank" in caught.value.message
    assert client.capture_order(order_id, "capture-p7-2").capture_status == "COMPLETED"  # another try


def test_declined_capture_inside_a_completed_order_is_not_money(client: PayPalClient, fake: PayPalFake) -> None:
    order_id = _order(client)
    fake.approve(order_id)
    fake.decline_next_capture(issue=None)

    capture = client.capture_order(order_id, "capture-p7-1")

    assert capture.order_status == "COMPLETED"
    assert capture.capture_status == "DECLINED"
    assert capture.failure_message and capture.status_reason == "DECLINED_BY_RISK_FRAUD_FILTERS"


def test_pending_capture_settles_later(client: PayPalClient, fake: PayPalFake) -> None:
    order_id = _order(client)
    fake.approve(order_id)
    fake.pending_next_capture("PENDING_REVIEW")

    capture = client.capture_order(order_id, "capture-p7-1")

    assert (capture.order_status, capture.capture_status) == ("COMPLETED", "PENDING")
    assert capture.status_reason == "PENDING_REVIEW" and capture.failure_message is None
    assert capture.capture_id
    fake.complete_pending(capture.capture_id)
    settled = client.get_capture(capture.capture_id)
    assert settled.capture_status == "COMPLETED"
    assert settled.order_id == order_id and settled.order_status is None


def test_unknown_order_is_not_found(client: PayPalClient) -> None:
    with pytest.raises(PayPalNotFound):
        client.get_order("0ABCDEF123456789X")
    with pytest.raises(PayPalNotFound):
        client.capture_order("../v1/oauth2/token", "capture-x")


# --- refunds ------------------------------------------------------------------------------------


def test_partial_then_full_refund(client: PayPalClient, fake: PayPalFake) -> None:
    capture_id = _captured(client, fake)

    partial = client.refund_capture(capture_id, Decimal("10.00"), "EUR", "refund-1", note="Sorry", invoice_id="R-1")
    rest = client.refund_capture(capture_id, None, "EUR", "refund-2")

    assert (partial.status, partial.amount, partial.currency) == ("COMPLETED", Decimal("10.00"), "EUR")
    assert (rest.status, rest.amount) == ("COMPLETED", Decimal("39.00"))
    assert fake.refunds[partial.refund_id]["note_to_payer"] == "Sorry"
    assert fake.captures[capture_id]["status"] == "REFUNDED"
    assert client.get_refund(partial.refund_id) == partial
    assert client.get_capture(capture_id).capture_status == "COMPLETED"  # captured, since refunded


def test_refunding_more_than_captured_is_declined(client: PayPalClient, fake: PayPalFake) -> None:
    capture_id = _captured(client, fake)

    with pytest.raises(PayPalDeclined) as caught:
        client.refund_capture(capture_id, Decimal("49.01"), "EUR", "refund-1")

    assert caught.value.issue == "REFUND_AMOUNT_EXCEEDED"


def test_refunding_a_fully_refunded_capture_is_declined(client: PayPalClient, fake: PayPalFake) -> None:
    capture_id = _captured(client, fake)
    client.refund_capture(capture_id, None, "EUR", "refund-1")

    with pytest.raises(PayPalDeclined) as caught:
        client.refund_capture(capture_id, Decimal("1.00"), "EUR", "refund-2")

    assert caught.value.issue == "CAPTURE_FULLY_REFUNDED"


def test_same_refund_request_id_refunds_once(client: PayPalClient, fake: PayPalFake) -> None:
    capture_id = _captured(client, fake)

    first = client.refund_capture(capture_id, Decimal("5.00"), "EUR", "refund-1")
    again = client.refund_capture(capture_id, Decimal("5.00"), "EUR", "refund-1")

    assert first == again and len(fake.refunds) == 1


def test_pending_refund_completes_later(client: PayPalClient, fake: PayPalFake) -> None:
    capture_id = _captured(client, fake, "1500", "JPY")
    fake.pending_next_refund()

    refund = client.refund_capture(capture_id, Decimal("500"), "JPY", "refund-1")

    assert (refund.status, refund.amount, refund.currency) == ("PENDING", Decimal("500"), "JPY")
    fake.complete_pending_refund(refund.refund_id)
    assert client.get_refund(refund.refund_id).status == "COMPLETED"


def test_failed_refund_carries_a_message(client: PayPalClient, fake: PayPalFake) -> None:
    capture_id = _captured(client, fake)
    fake.pending_next_refund()
    refund = client.refund_capture(capture_id, Decimal("5.00"), "EUR", "refund-1")

    fake.complete_pending_refund(refund.refund_id, status="FAILED")

    failed = client.get_refund(refund.refund_id)
    assert failed.status == "FAILED" and failed.failure_message


# --- token --------------------------------------------------------------------------------------


def test_token_is_fetched_once_and_reused(client: PayPalClient, fake: PayPalFake) -> None:
    _order(client, request_id="a")
    _order(client, request_id="b")
    client.get_order(_order(client, request_id="c"))

    assert fake.token_requests == 1


def test_token_is_renewed_shortly_before_it_expires(client: PayPalClient, fake: PayPalFake, clock: Clock) -> None:
    _order(client, request_id="a")
    clock.now += fake.token_ttl - 299  # inside the safety margin
    _order(client, request_id="b")

    assert fake.token_requests == 2


def test_a_token_revoked_early_is_replaced_once(client: PayPalClient, fake: PayPalFake) -> None:
    _order(client, request_id="a")
    fake.expire_tokens()

    _order(client, request_id="b")

    assert fake.token_requests == 2


def test_wrong_credentials_are_a_config_error(fake: PayPalFake) -> None:
    with PayPalClient(fake.client_id, "wrong", fake.base_url) as client, pytest.raises(PayPalConfigError):
        client.get_order("0ABCDEF123456789X")


# --- unknown outcomes ---------------------------------------------------------------------------


def test_paypal_5xx_is_unavailable(client: PayPalClient, fake: PayPalFake) -> None:
    order_id = _order(client)
    fake.approve(order_id)
    fake.fail_next_request(503)

    with pytest.raises(PayPalUnavailable):
        client.capture_order(order_id, "capture-p7-1")
    assert client.capture_order(order_id, "capture-p7-1").capture_status == "COMPLETED"


def test_slow_paypal_times_out_as_unavailable(fake: PayPalFake) -> None:
    with PayPalClient(fake.client_id, fake.client_secret, fake.base_url, timeout=0.3) as client:
        client.get_order(_order(client))  # token fetched while PayPal is quick
        fake.delay_next_request(1.5)
        with pytest.raises(PayPalUnavailable):
            client.create_order(Decimal("5.00"), "EUR", "payment-10", "p10-1", RETURN_URL, CANCEL_URL)


def test_refused_connection_is_unavailable() -> None:
    with PayPalClient("id", "secret", closed_port_url(), timeout=0.3) as client, pytest.raises(PayPalUnavailable):
        client.get_order("ABC")


def test_paypal_that_never_answers_is_unavailable() -> None:
    with (
        black_hole() as url,
        PayPalClient("id", "secret", url, timeout=0.3) as client,
        pytest.raises(PayPalUnavailable),
    ):
        client.get_order("ABC")


# --- webhook signatures -------------------------------------------------------------------------


def test_genuine_webhook_verifies(client: PayPalClient, fake: PayPalFake) -> None:
    capture_id = _captured(client, fake)
    body, headers = fake.signed(fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))

    assert client.verify_webhook_signature(headers, body, fake.webhook_id) is True

    call = fake.verification_calls[-1]
    assert call["webhook_id"] == fake.webhook_id
    assert call["transmission_id"] == headers["PAYPAL-TRANSMISSION-ID"]
    assert call["webhook_event"] == json.loads(body)


def test_header_names_are_case_insensitive(client: PayPalClient, fake: PayPalFake) -> None:
    body, headers = fake.signed(fake.event("PAYMENT.CAPTURE.COMPLETED", _captured(client, fake)))

    lower = {name.lower(): value for name, value in headers.items()}
    assert client.verify_webhook_signature(lower, body, fake.webhook_id) is True


def test_webhook_verification_failure_is_false(client: PayPalClient, fake: PayPalFake) -> None:
    body, headers = fake.signed(fake.event("PAYMENT.CAPTURE.COMPLETED", _captured(client, fake)))
    fake.fail_signature_verification = True

    assert client.verify_webhook_signature(headers, body, fake.webhook_id) is False


def test_tampered_webhook_does_not_verify(client: PayPalClient, fake: PayPalFake) -> None:
    body, headers = fake.signed(fake.event("PAYMENT.CAPTURE.COMPLETED", _captured(client, fake)))
    tampered = body.replace(b'"49.00"', b'"4900.00"')

    assert client.verify_webhook_signature(headers, tampered, fake.webhook_id) is False
    assert client.verify_webhook_signature(headers, body, "WH-SOMEONE-ELSE") is False


def test_webhook_without_transmission_headers_is_refused_without_asking(
    client: PayPalClient, fake: PayPalFake
) -> None:
    body, headers = fake.signed(fake.event("PAYMENT.CAPTURE.COMPLETED", _captured(client, fake)))
    del headers["PAYPAL-TRANSMISSION-SIG"]

    assert client.verify_webhook_signature(headers, body, fake.webhook_id) is False
    assert client.verify_webhook_signature(headers | {"PAYPAL-TRANSMISSION-SIG": "x"}, b"not json", "WH") is False
    assert fake.verification_calls == []


def test_verification_outage_raises_so_paypal_retries(client: PayPalClient, fake: PayPalFake) -> None:
    body, headers = fake.signed(fake.event("PAYMENT.CAPTURE.COMPLETED", _captured(client, fake)))
    fake.fail_next_request(500)

    with pytest.raises(PayPalUnavailable):
        client.verify_webhook_signature(headers, body, fake.webhook_id)


# --- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("49", "EUR", "49.00"), ("49.5", "usd", "49.50"), ("1500", "JPY", "1500"), ("1500", "HUF", "1500"),
     ("100", "TWD", "100"), ("0.01", "EUR", "0.01")],
)  # fmt: skip
def test_amounts_use_the_currencys_decimals(amount: str, currency: str, text: str) -> None:
    assert format_amount(Decimal(amount), currency) == text


@pytest.mark.parametrize(("amount", "currency"), [("49.001", "EUR"), ("1.5", "JPY"), ("10.50", "HUF")])
def test_amounts_are_never_rounded(amount: str, currency: str) -> None:
    with pytest.raises(ValueError):
        format_amount(Decimal(amount), currency)
