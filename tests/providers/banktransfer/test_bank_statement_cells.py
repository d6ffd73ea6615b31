"""Amount and date cells of bank exports are read exactly, or refused with a reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.providers.banktransfer.statement import parse_amount_text, parse_date_text


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("-12,50", "-12.50"),
        ("12.50-", "-12.50"),
        ("+19.00", "19.00"),
        ("EUR 12,50", "12.50"),
        ("12,50 EUR", "12.50"),
        ("-€12.50", "-12.50"),
        ("(12.50)", "-12.50"),
        ("\u22127,00", "-7.00"),  # U+2212 MINUS SIGN
        ("1'234.50", "1234.50"),
        ("1 234,50", "1234.50"),
        ("1.234.567,89", "1234567.89"),
        ("1,234,567", "1234567"),
        ("1.234", "1234"),  # a mark before three digits groups thousands in a two-decimal currency
        ("1,234", "1234"),
        ("0,5", "0.50"),
        ("12", "12.00"),
        ("49", "49.00"),
    ],
)
def test_amount_formats_of_german_and_english_banks(cell: str, amount: str) -> None:
    assert parse_amount_text(cell, "EUR") == Decimal(amount)


@pytest.mark.parametrize(
    "cell",
    ["", "abc", "=1+1", "-12-", "12,345,6", "1,23,456", "12.5055", "1.2.3,4,5", ".50", "12.", "--5"],
)
def test_unreadable_or_too_precise_amounts_are_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_amount_text(cell, "EUR")


def test_amounts_follow_the_currency_minor_unit() -> None:
    assert parse_amount_text("12.505", "EUR") == Decimal(12505)  # EUR has no third decimal
    assert parse_amount_text("1.500", "JPY") == Decimal(1500)
    with pytest.raises(ValueError, match="more decimals"):
        parse_amount_text("1,5", "JPY")


def test_three_decimal_currencies_need_to_know_the_decimal_mark() -> None:
    with pytest.raises(ValueError, match="two ways"):
        parse_amount_text("1,234", "KWD")
    assert parse_amount_text("1,234", "KWD", decimal_comma=True) == Decimal("1.234")
    assert parse_amount_text("1,234", "KWD", decimal_comma=False) == Decimal("1234")


def _german(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


@given(
    st.decimals(min_value=Decimal("-9999999.99"), max_value=Decimal("9999999.99"), places=2),
    st.sampled_from(["de", "en", "de-plain", "en-plain", "trailing-minus", "with-currency"]),
)
def test_any_two_decimal_amount_reads_back_exactly_in_every_bank_style(amount: Decimal, style: str) -> None:
    cell = {
        "de": _german(amount),
        "en": f"{amount:,.2f}",
        "de-plain": f"{amount:.2f}".replace(".", ","),
        "en-plain": f"{amount:.2f}",
        "trailing-minus": f"{abs(amount):.2f}" + ("-" if amount < 0 else ""),
        "with-currency": f"EUR {amount:.2f}",
    }[style]
    assert parse_amount_text(cell, "EUR") == amount


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2024-03-08", date(2024, 3, 8)),
        ("2024/03/08", date(2024, 3, 8)),
        ("20240308", date(2024, 3, 8)),
        ("08.03.2024", date(2024, 3, 8)),
        ("8.3.2024", date(2024, 3, 8)),
        ("08.03.24", date(2024, 3, 8)),
        ("08-03-2024", date(2024, 3, 8)),
        ("2024-03-08T10:15:00", date(2024, 3, 8)),
        ("2024-03-08T10:15:00+01:00", date(2024, 3, 8)),
        ("08.03.2024 10:15", date(2024, 3, 8)),
        ("05/05/2024", date(2024, 5, 5)),  # the same date whichever way it is read
    ],
)
def test_unambiguous_date_formats(cell: str, day: date) -> None:
    assert parse_date_text(cell) == day


def test_slash_dates_follow_the_order_they_are_told() -> None:
    assert parse_date_text("03/08/2024", "MDY") == date(2024, 3, 8)
    assert parse_date_text("03/08/2024", "DMY") == date(2024, 8, 3)
    with pytest.raises(ValueError, match="day/month or month/day"):
        parse_date_text("03/08/2024")


def test_an_explicit_date_format_wins() -> None:
    assert parse_date_text("Mar 8 2024", date_format="%b %d %Y") == date(2024, 3, 8)
    with pytest.raises(ValueError, match="date format"):
        parse_date_text("2024-03-08", date_format="%d.%m.%Y")


@pytest.mark.parametrize("cell", ["31.02.2024", "2024-13-01", "13/13/2024", "yesterday", "", "1.1"])
def test_impossible_or_unknown_dates_are_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_date_text(cell, "DMY")
