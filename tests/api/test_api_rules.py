"""The HTTP layer's pure decisions: what a stored Idempotency-Key means, request fingerprints, and the
sliding window of the login rate limit."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.api.rules import (
    DONE,
    IN_PROGRESS,
    LEASE,
    REPLAY_WINDOW,
    KeyDecision,
    decide,
    fingerprint,
    retry_after,
    valid_key,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AGES = {
    "fresh": NOW - timedelta(seconds=1),
    "a day old": NOW - REPLAY_WINDOW,
    "older": NOW - REPLAY_WINDOW - timedelta(seconds=1),
}
LOCKS = {"no lock": None, "lease over": NOW - timedelta(seconds=1), "lease now": NOW, "held": NOW + LEASE}


def _expected(state: str, same: bool, age: str, lock: str) -> KeyDecision:
    if age != "fresh":
        return KeyDecision.RESTART  # a day or more: the key is free again
    if not same:
        return KeyDecision.REUSED
    if state == DONE:
        return KeyDecision.REPLAY
    return KeyDecision.IN_PROGRESS if lock == "held" else KeyDecision.RESTART


@pytest.mark.parametrize(
    ("state", "same", "age", "lock"), list(itertools.product((DONE, IN_PROGRESS), (True, False), AGES, LOCKS))
)
def test_every_combination_of_a_stored_key_has_one_meaning(state: str, same: bool, age: str, lock: str) -> None:
    decision = decide(state=state, same_request=same, created_at=AGES[age], locked_until=LOCKS[lock], now=NOW)
    assert decision == _expected(state, same, age, lock)


def test_json_bodies_are_the_same_request_whatever_their_member_order_and_spacing() -> None:
    one = json.dumps({"data": {"type": "orders", "attributes": {"a": 1, "b": [1, 2]}}}).encode()
    two = b'{ "data" : { "attributes" : { "b" : [1,2], "a" : 1 }, "type" : "orders" } }'
    assert fingerprint("POST", "/v1/orders", "", one) == fingerprint("post", "/v1/orders", "", two)


@pytest.mark.parametrize(
    "other",
    [
        ("PATCH", "/v1/orders", "", b'{"a":1}'),
        ("POST", "/v1/orders/1", "", b'{"a":1}'),
        ("POST", "/v1/orders", "include=event", b'{"a":1}'),
        ("POST", "/v1/orders", "", b'{"a":2}'),
        ("POST", "/v1/orders", "", b""),
        ("POST", "/v1/orders", "", b"not json"),
    ],
)
def test_method_path_query_and_body_each_make_another_request(other: tuple[str, str, str, bytes]) -> None:
    assert fingerprint("POST", "/v1/orders", "", b'{"a":1}') != fingerprint(*other)


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_parts_cannot_be_shifted_into_each_other(path_tail: bytes, body: bytes) -> None:
    """Each part is length-prefixed: moving bytes from the path to the query changes the fingerprint."""
    text = path_tail.decode("latin-1")
    assert fingerprint("POST", "/v1/" + text, "", body) != fingerprint("POST", "/v1/", text, body) or text == ""


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("3f1c9a2e-6b1d-4b8e-9a53-0d0e6f3b1a77", True),
        ("a", True),
        ("x" * 255, True),
        ("", False),
        ("x" * 256, False),
        (" padded", False),
        ("tab\there", False),
        ("naïve", False),
    ],
)
def test_keys_are_short_visible_ascii(key: str, ok: bool) -> None:
    assert valid_key(key) is ok


WINDOW = timedelta(minutes=1)


def test_attempts_below_the_limit_need_no_wait() -> None:
    attempts = [NOW - timedelta(seconds=s) for s in (1, 2, 3)]
    assert retry_after(attempts, now=NOW, limit=4, window=WINDOW) is None


def test_a_full_window_waits_until_its_oldest_counting_attempt_leaves() -> None:
    attempts = [NOW - timedelta(seconds=s) for s in (5, 20, 50, 59.5)]
    assert retry_after(attempts, now=NOW, limit=3, window=WINDOW) == 10  # once 50 s ago leaves, 2 are left
    assert retry_after(attempts, now=NOW, limit=4, window=WINDOW) == 1  # rounded up to a whole second


def test_attempts_older_than_the_window_do_not_count() -> None:
    attempts = [NOW - timedelta(seconds=s) for s in (60, 61, 3600)]
    assert retry_after(attempts, now=NOW, limit=1, window=WINDOW) is None


@given(st.lists(st.integers(min_value=0, max_value=120), max_size=30), st.integers(min_value=1, max_value=10))
def test_waiting_the_answer_always_frees_a_slot(ages: list[int], limit: int) -> None:
    attempts = [NOW - timedelta(seconds=a) for a in ages]
    wait = retry_after(attempts, now=NOW, limit=limit, window=WINDOW)
    if wait is None:
        assert sum(1 for a in ages if a < 60) < limit
    else:
        assert 1 <= wait <= 60
        assert retry_after(attempts, now=NOW + timedelta(seconds=wait), limit=limit, window=WINDOW) is None
