"""What the shredder treats as personal data, and how it cuts it out of JSON values and free text."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.books.privacy import EVERYTHING, PAYMENT_DETAILS, SHREDDED, cut, harvest, scrub, worth_cutting

STRIPE_LIKE = {
    "id": "pi_123",
    "amount": "49.00",
    "billing_details": {"name": "Jane Roe", "email": "jane@example.org"},
    "card": {"brand": "visa", "last4": "4242", "exp_year": 2031},
    "receipt_email": "jane@example.org",
}


@pytest.mark.parametrize(
    ("key", "payment", "buyer"),
    [
        ("iban", True, True),
        ("payerIban", True, True),
        ("payer-name", True, True),
        ("account_holder", True, True),
        ("card", True, True),
        ("last4", True, True),
        ("billing_details", True, True),
        ("email", False, True),
        ("email_address", False, True),
        ("attendee_name", False, True),
        ("name", False, True),
        ("public_name", False, False),  # "bic" inside "public" is not the word "bic"
        ("payment", False, False),
        ("amount", False, False),
        ("provider", False, False),
        ("message", False, False),
    ],
)
def test_personal_keys_depend_on_the_scope(key: str, payment: bool, buyer: bool) -> None:
    assert PAYMENT_DETAILS.is_personal_key(key) is payment
    assert EVERYTHING.is_personal_key(key) is buyer


def test_harvest_collects_text_under_personal_keys_and_recognisable_shapes() -> None:
    assert harvest(STRIPE_LIKE) == {"Jane Roe", "jane@example.org", "visa", "4242"}
    assert harvest({"note": "paid from DE89 3704 0044 0532 0130 00"}, PAYMENT_DETAILS) == {
        "DE89 3704 0044 0532 0130 00"
    }
    # The payment scope leaves buyer identity alone, but payment details keep everything they hold.
    assert harvest({"email": "jane@example.org", "payer": {"email": "p@example.org"}}, PAYMENT_DETAILS) == {
        "p@example.org"
    }


def test_scrub_empties_personal_keys_and_cuts_known_values_elsewhere() -> None:
    data: dict[str, Any] = {
        "payment": "ABCDE-P-1",
        "amount": "4242.00",
        "email": "jane@example.org",
        "comment": "Called Jane Roe; refund to DE89370400440532013000 please",
        "positions": [{"product": 3, "quantity": 2}],
    }
    clean = scrub(data, {"Jane Roe", "4242"}, EVERYTHING)
    assert clean == {
        "payment": "ABCDE-P-1",
        "amount": "4242.00",  # bookkeeping keys stay, even when a known value matches
        "email": None,
        "comment": f"Called {SHREDDED}; refund to {SHREDDED} please",
        "positions": [{"product": 3, "quantity": 2}],
    }
    assert data["email"] == "jane@example.org", "the input is not changed"


def test_payment_scope_keeps_the_buyers_email_but_cuts_payment_details() -> None:
    data = {"email": "jane@example.org", "message": "IBAN DE89370400440532013000 rejected", "payer_name": "Jane Roe"}
    assert scrub(data, set(), PAYMENT_DETAILS) == {
        "email": "jane@example.org",
        "message": f"IBAN {SHREDDED} rejected",
        "payer_name": None,
    }


def test_values_are_cut_as_whole_words_and_short_digit_strings_only_by_key() -> None:
    assert cut("Ann paid the annual fee", {"Ann"}, PAYMENT_DETAILS) == f"{SHREDDED} paid the annual fee"
    assert cut("amount 4242.00", {"4242"}, PAYMENT_DETAILS) == "amount 4242.00"
    assert cut("card 4242424242424242 declined", {"4242424242424242"}, PAYMENT_DETAILS) == f"card {SHREDDED} declined"
    assert cut("JANE ROE called", {"jane roe"}, PAYMENT_DETAILS) == f"{SHREDDED} called"
    assert not worth_cutting("Al") and not worth_cutting("4242") and worth_cutting("Ann")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@given(value=json_values, known=st.sets(st.text(min_size=1, max_size=12), max_size=3))
def test_scrubbing_twice_changes_nothing_more(value: Any, known: set[str]) -> None:
    once = scrub(value, known, EVERYTHING)
    assert scrub(once, known, EVERYTHING) == once


@given(value=json_values)
def test_nothing_harvested_survives_a_scrub(value: Any) -> None:
    known = harvest(value)
    clean = scrub(value, known, EVERYTHING)
    leftovers = {v for v in harvest(clean) if v != SHREDDED and worth_cutting(v)}
    assert not leftovers
