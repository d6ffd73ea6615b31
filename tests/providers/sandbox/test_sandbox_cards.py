"""The sandbox's pure parts: what each test card does, and how its callbacks are signed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.providers.sandbox import signing
from boxoffice.providers.sandbox.cards import (
    DECLINED,
    REQUIRES_ACTION,
    SUCCEEDS,
    Behaviour,
    CardNumberInvalid,
    luhn_ok,
    read_card,
)


def test_the_documented_test_numbers_do_what_the_contract_says() -> None:
    assert read_card(SUCCEEDS).behaviour == Behaviour.SUCCEED
    assert read_card(DECLINED).behaviour == Behaviour.DECLINE
    assert read_card(REQUIRES_ACTION).behaviour == Behaviour.REQUIRE_ACTION


def test_only_brand_and_last_four_digits_are_read_from_a_card() -> None:
    card = read_card("4242 4242-4242 4242")
    assert (card.brand, card.last4) == ("visa", "4242")
    assert read_card("5555555555554444").brand == "mastercard"
    assert read_card("378282246310005").brand == "amex"
    assert read_card("6011111111111117").brand == "card"


def test_other_valid_numbers_succeed() -> None:
    assert read_card("4111111111111111").behaviour == Behaviour.SUCCEED


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4242424242424241", "incorrect"),
        ("4242", "12 to 19 digits"),
        ("4242abcd42424242", "12 to 19 digits"),
        ("\uff14\uff12" * 8, "12 to 19 digits"),  # full-width digits look right but are not ASCII
        ("", "12 to 19 digits"),
    ],
)
def test_a_wrong_card_number_is_refused_with_a_message_for_the_buyer(text: str, message: str) -> None:
    with pytest.raises(CardNumberInvalid, match=message):
        read_card(text)


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_exactly_one_check_digit_completes_any_number(body: str) -> None:
    assert sum(luhn_ok(body + digit) for digit in "0123456789") == 1


KEY = b"k" * 32
BODY = b'{"id":"sbx_evt_1"}'


def test_a_signed_body_verifies_within_the_tolerance() -> None:
    header = signing.sign(KEY, BODY, 1_000)
    signing.verify(KEY, header, BODY, now=1_000 + signing.TOLERANCE_SECONDS)


@pytest.mark.parametrize(
    ("header", "body", "now", "reason"),
    [
        (None, BODY, 1_000, "missing"),
        ("v1=abc", BODY, 1_000, "no timestamp"),
        (signing.sign(KEY, BODY, 1_000), BODY + b" ", 1_000, "does not match"),
        (signing.sign(b"other key", BODY, 1_000), BODY, 1_000, "does not match"),
        (signing.sign(KEY, BODY, 1_000), BODY, 1_000 + signing.TOLERANCE_SECONDS + 1, "too old"),
    ],
)
def test_a_forged_altered_or_stale_signature_is_refused(header: str | None, body: bytes, now: int, reason: str) -> None:
    with pytest.raises(signing.SignatureMismatch, match=reason):
        signing.verify(KEY, header, body, now=now)
