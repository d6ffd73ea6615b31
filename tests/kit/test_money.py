from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.errors import InvalidValue
from boxoffice.kit.money import (
    format_amount,
    from_minor_units,
    normalize,
    parse_amount,
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


@pytest.mark.parametrize(("currency", "text"), [("EUR", "49.001"), ("JPY", "1500.5"), ("KWD", "1.2345")])
def test_over_precise_amounts_are_refused_not_rounded(currency: str, text: str) -> None:
    with pytest.raises(InvalidValue, match="more decimals"):
        parse_amount(text, currency, pointer="/data/attributes/amount")


@pytest.mark.parametrize("bad", ["-1", "1e3", "abc", "", " 1,00", 12.5, None])
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


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["EUR", "JPY", "KWD", "USD", "BHD"]))
def test_minor_units_round_trip_exactly(units: int, currency: str) -> None:
    amount = from_minor_units(units, currency)
    assert to_minor_units(amount, currency) == units
    assert normalize(amount, currency) == amount
    assert parse_amount(format_amount(amount, currency), currency) == amount
