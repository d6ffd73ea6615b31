"""Exact money arithmetic. One module decides how amounts are parsed, rounded and written.

Amounts are :class:`~decimal.Decimal` quantized to the currency's minor unit. Rounding is half-up
(commercial rounding), the rule organizers and accountants expect. Floats are refused outright.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from boxoffice.errors import InvalidValue
from boxoffice.kit.currencies import exponent

ZERO = Decimal(0)
_DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-exponent(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (used for computed amounts: fees, percentages)."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    return Decimal(value).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def normalize(value: Decimal, currency: str) -> Decimal:
    """Write an exact amount with the currency's number of decimals; refuse to lose precision."""
    rounded = round_money(value, currency)
    if rounded != value:
        raise InvalidValue(
            f"{value} has more decimals than {currency} allows ({exponent(currency)}).",
            code="too-precise",
        )
    return rounded


def parse_amount(
    text: object,
    currency: str,
    *,
    pointer: str | None = None,
    allow_negative: bool = False,
    allow_zero: bool = True,
) -> Decimal:
    """Parse a decimal string as given by a user or API client into an exact amount.

    Accepts ``"49"``, ``"49.0"`` and ``"49.00"`` for EUR; refuses floats, exponents, ``"49.001"``
    for EUR, ``"1.5"`` for JPY, and negatives unless ``allow_negative``.
    """
    if isinstance(text, Decimal):
        raw = format(text, "f")
    elif isinstance(text, str):
        raw = text.strip()
    else:
        raise InvalidValue('An amount must be a decimal string such as "49.00".', pointer=pointer)
    if not _DECIMAL_TEXT.match(raw):
        raise InvalidValue(f"'{raw}' is not a decimal amount.", pointer=pointer)
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
        raise InvalidValue(f"'{raw}' is not a decimal amount.", pointer=pointer) from exc
    if value < 0 and not allow_negative:
        raise InvalidValue("The amount must not be negative.", pointer=pointer, code="negative-amount")
    if value == 0 and not allow_zero:
        raise InvalidValue("The amount must be more than zero.", pointer=pointer, code="zero-amount")
    try:
        return normalize(value, currency)
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, pointer=pointer, code="too-precise") from exc


def format_amount(value: Decimal, currency: str) -> str:
    """The decimal string of an amount as the API writes it: ``"49.00"``, ``"1500"`` for JPY."""
    return format(round_money(value, currency), "f")


def percentage(value: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``percent`` % of ``value``, rounded half-up to the currency."""
    return round_money(value * percent / Decimal(100), currency)


def to_minor_units(value: Decimal, currency: str) -> int:
    """Integer minor units (cents) as payment providers want them; refuses sub-unit amounts."""
    exact = normalize(value, currency)
    return int(exact.scaleb(exponent(currency)))


def from_minor_units(units: int, currency: str) -> Decimal:
    """The exact amount for an integer number of minor units."""
    return Decimal(units).scaleb(-exponent(currency)).quantize(quantum(currency))
