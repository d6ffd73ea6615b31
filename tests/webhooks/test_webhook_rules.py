"""Webhook rules: the signature receivers verify, the retry backoff over three days, valid input."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.errors import InvalidValue
from boxoffice.webhooks.rules import (
    EVENT_TYPES,
    RETRY_WINDOW,
    check_event_types,
    check_url,
    event_type_for,
    next_attempt_at,
    retry_delay,
    signature_header,
    verify_signature,
)

SECRET = "whsec_test"
BODY = b'{"id":"evt_1","type":"order.paid"}'


def test_the_signature_is_the_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, 1_700_000_000, BODY) == f"t=1700000000,v1={expected}"


def test_a_receiver_accepts_a_fresh_signature_and_refuses_tampering_age_and_other_secrets() -> None:
    header = signature_header(SECRET, 1_700_000_000, BODY)
    assert verify_signature(SECRET, header, BODY, now_ts=1_700_000_100)
    assert not verify_signature(SECRET, header, BODY + b" ", now_ts=1_700_000_100)
    assert not verify_signature("whsec_other", header, BODY, now_ts=1_700_000_100)
    assert not verify_signature(SECRET, header, BODY, now_ts=1_700_000_000 + 301)
    assert not verify_signature(SECRET, "v1=abc", BODY, now_ts=1_700_000_000)


def test_retries_double_from_30_seconds_to_at_most_6_hours() -> None:
    delays = [retry_delay(n).total_seconds() for n in (1, 2, 3, 10, 11, 50)]
    assert delays == [30, 60, 120, 15360, 21600, 21600]
    with pytest.raises(ValueError):
        retry_delay(0)


def test_retries_stop_after_three_days() -> None:
    created = datetime(2030, 1, 1, tzinfo=UTC)
    give_up, moment, attempt, times = created + RETRY_WINDOW, created, 1, []
    while (retry := next_attempt_at(attempt, moment, give_up)) is not None:
        times.append(retry)
        moment, attempt = retry, attempt + 1
    assert times == sorted(times) and times[-1] <= give_up
    assert give_up - times[-1] < timedelta(hours=6)
    assert 15 <= len(times) <= 25


def test_only_known_event_types_are_sent_and_subscribed_to() -> None:
    assert event_type_for("order.paid") == "order.paid"
    assert event_type_for("payment.created") is None
    assert check_event_types(["order.paid", "refund.done", "order.paid"]) == ["order.paid", "refund.done"]
    assert set(EVENT_TYPES) >= {"order.placed", "order.paid", "order.canceled", "order.changed", "order.pending"}
    with pytest.raises(InvalidValue) as bad:
        check_event_types(["order.paid", "order.eaten"])
    assert bad.value.pointer == "/data/attributes/event-types/1"
    with pytest.raises(InvalidValue):
        check_event_types([])


@pytest.mark.parametrize("url", ["ftp://example.org/hook", "example.org/hook", "http://", "javascript:alert(1)"])
def test_endpoints_need_an_absolute_http_url(url: str) -> None:
    with pytest.raises(InvalidValue) as bad:
        check_url(url)
    assert bad.value.pointer == "/data/attributes/url"


def test_a_url_is_kept_as_given() -> None:
    assert check_url(" https://example.org/hooks?x=1 ") == "https://example.org/hooks?x=1"
