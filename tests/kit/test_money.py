from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.errors import InvalidValue
from boxoffice.kit.currencies import is_currency_code
from boxoffice.kit.money import (
    format_amount,
    from_minor_units,
    normalize,
    parse_amount,
    parse_percent,
    percentage,
    round_money,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("currency", "text", "expected", "minor"),
    [
        ("EUR", "49", "49.00", 4900),
        ("EUR", "49.5", "49.50", 4950),
        ("JPY", "1500", "1500", 1500),
        ("KWD", "1.234", "1.234", 1234),
        ("KWD", "2", "2.000", 2000),
    ],
)
def test_amounts_are_written_with_the_currency_minor_unit(currency: str, text: str, expected: str, minor: int) -> None:
    value = parse_amount(text, currency)
    assert format_amount(value, currency) == expected
    assert to_minor_units(value, currency) == minor
    assert from_minor_units(minor, currency) == value


@pytest.mark.parametrize(
    ("currency", "text"), [("EUR", "49.001"), ("JPY", "1500.5"), ("KWD", "1.2345"), ("EUR", "49.000"), ("JPY", "1.0")]
)
def test_over_precise_amounts_are_refused_not_rounded(currency: str, text: str) -> None:
    with pytest.raises(InvalidValue, match="more decimals"):
        parse_amount(text, currency, pointer="/data/attributes/amount")


@pytest.mark.parametrize(
    "bad", ["-1", "1e3", "abc", "", " 1,00", 12.5, None, "\u0661\u0662", "\uff11\uff12", "12\n3", "-0", "-0.00", "+1", "1000000000000"]
)
def test_malformed_or_negative_amounts_are_refused_with_the_pointer(bad: object) -> None:
    with pytest.raises(InvalidValue) as err:
        parse_amount(bad, "EUR", pointer="/data/attributes/amount")
    assert err.value.pointer == "/data/attributes/amount"


def test_rounding_is_half_up_in_every_currency() -> None:
    assert round_money(Decimal("0.005"), "EUR") == Decimal("0.01")
    assert round_money(Decimal("0.0049"), "EUR") == Decimal("0.00")
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert round_money(Decimal("0.0005"), "KWD") == Decimal("0.001")
    assert percentage(Decimal("49.00"), Decimal("2.9"), "EUR") == Decimal("1.42")


def test_floats_never_become_money() -> None:
    with pytest.raises(TypeError):
        round_money(0.1, "EUR")  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**12 - 1), st.sampled_from(["EUR", "JPY", "KWD", "USD", "BHD"]))
def test_minor_units_round_trip_exactly(units: int, currency: str) -> None:
    amount = from_minor_units(units, currency)
    assert to_minor_units(amount, currency) == units
    assert normalize(amount, currency) == amount
    assert parse_amount(format_amount(amount, currency), currency) == amount


@pytest.mark.parametrize(("text", "code"), [("-0", "negative-amount"), ("\u0661\u0662", "invalid-value"), ("10" * 7, "amount-too-large")])
def test_negative_zero_and_other_scripts_digits_are_refused_with_their_code(text: str, code: str) -> None:
    with pytest.raises(InvalidValue) as err:
        parse_amount(text, "EUR")
    assert err.value.code == code


def test_no_amount_is_ever_written_as_negative_zero() -> None:
    assert format_amount(Decimal("-0"), "EUR") == "0.00"
    assert format_amount(Decimal("-0.001"), "EUR") == "0.00"
    assert format_amount(Decimal("-0"), "JPY") == "0"


@pytest.mark.parametrize(("text", "expected"), [("0", Decimal(0)), ("1.5", Decimal("1.5")), ("100", Decimal(100))])
def test_percentages_are_ascii_decimals_from_0_to_100(text: str, expected: Decimal) -> None:
    assert parse_percent(text) == expected


@pytest.mark.parametrize("bad", ["100.01", "-1", "\u0661\u0662", "1e1", "NaN", "", 10, None])
def test_other_percentages_are_refused(bad: object) -> None:
    assert parse_percent(bad) is None


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "CHF", "XOF", "XPF"])
def test_currencies_in_use_are_currencies(code: str) -> None:
    assert is_currency_code(code)


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "ABC", "DEM", "HRK", "CHE", "eur", "EURO", ""])
def test_no_currency_test_codes_metals_funds_and_withdrawn_ones_are_refused(code: str) -> None:
    assert not is_currency_code(code)
