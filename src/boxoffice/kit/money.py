"""Exact money arithmetic. One module decides how amounts are parsed, rounded and written.

Amounts are :class:`~decimal.Decimal` quantized to the currency's minor unit. Rounding is half-up
(commercial rounding), the rule organizers and accountants expect. Floats are refused outright.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from boxoffice.errors import InvalidValue
from boxoffice.kit.currencies import MAX_EXPONENT, exponent

ZERO = Decimal(0)
# Far above any ticket sale, and far below what the databases' amount columns hold (NUMERIC(18, 3)).
MAX_INTEGER_DIGITS = 12
MAX_AMOUNT = Decimal(10) ** MAX_INTEGER_DIGITS
# What an amount is written as, in documents and forms: ASCII digits (Python's ``\d`` would read
# "١٢" as 12), at most MAX_EXPONENT decimals, no sign, exponent or spaces, below MAX_AMOUNT. The
# currency then limits the decimals further (EUR 2, JPY 0).
AMOUNT_PATTERN = rf"^[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_EXPONENT}}})?$"
# What the API writes: negative amounts (owed back) too, but never a negative zero.
SIGNED_AMOUNT_PATTERN = r"^(-(?=[0-9.]*[1-9]))?[0-9]+(\.[0-9]+)?$"

# Matched whole (fullmatch): a "$" would let "49\n" in.
_DECIMAL_TEXT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
# A percentage: "0" to "100" with up to four decimals.
_PERCENT_TEXT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?")


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-exponent(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (used for computed amounts: fees, percentages).
    A negative zero comes out as zero."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    return Decimal(value).quantize(quantum(currency), rounding=ROUND_HALF_UP) + 0


def normalize(value: Decimal, currency: str) -> Decimal:
    """Write an exact amount with the currency's number of decimals; refuse to lose precision."""
    rounded = round_money(value, currency)
    if rounded != value:
        raise InvalidValue(
            f"{value} has more decimals than {currency} allows ({exponent(currency)}).",
            code="too-precise",
        )
    return rounded


def amount_text_problem(text: str) -> str | None:
    """Why ``text`` is not an amount as :data:`AMOUNT_PATTERN` writes one — ``"malformed"``,
    ``"negative"`` (``"-0"`` too), ``"too-precise"`` or ``"too-large"`` — or None when it is. The one
    syntax check of amounts in documents, forms and settings."""
    found = _DECIMAL_TEXT.fullmatch(text)
    if found is None:
        return "malformed"
    sign, whole, fraction = found.groups()
    if sign:
        return "negative"
    if len(fraction or "") > MAX_EXPONENT:
        return "too-precise"
    return "too-large" if len(whole) > MAX_INTEGER_DIGITS else None


def parse_amount(text: object, currency: str, *, pointer: str | None = None, allow_zero: bool = True) -> Decimal:
    """Parse a decimal string as given by a user or API client into an exact amount.

    Accepts ``"49"``, ``"49.0"`` and ``"49.00"`` for EUR; refuses floats, exponents, signs (``"-0"``
    too), other scripts' digits, ``"49.001"`` and ``"49.000"`` for EUR and ``"1.0"`` for JPY.
    """
    if isinstance(text, Decimal):
        raw = format(text, "f") if text.is_finite() else str(text)
    elif isinstance(text, str):
        raw = text.strip()
    else:
        raise InvalidValue('An amount must be a decimal string such as "49.00".', pointer=pointer)
    problem = amount_text_problem(raw)
    if problem == "negative":
        raise InvalidValue("The amount must not be negative.", pointer=pointer, code="negative-amount")
    if problem == "too-large":
        raise InvalidValue(f"An amount is less than {MAX_AMOUNT}.", pointer=pointer, code="amount-too-large")
    if problem == "malformed":
        raise InvalidValue(f"'{raw}' is not a decimal amount.", pointer=pointer)
    if problem == "too-precise" or len(raw.partition(".")[2]) > exponent(currency):
        raise InvalidValue(
            f"{raw} has more decimals than {currency} allows ({exponent(currency)}).", pointer=pointer, code="too-precise"
        )
    value = Decimal(raw)
    if value == 0 and not allow_zero:
        raise InvalidValue("The amount must be more than zero.", pointer=pointer, code="zero-amount")
    return round_money(value, currency)


def parse_percent(text: object) -> Decimal | None:
    """A percentage from ``"0"`` to ``"100"`` written as :data:`PERCENT_PATTERN`, or None."""
    if not isinstance(text, str) or not _PERCENT_TEXT.fullmatch(text):
        return None
    value = Decimal(text)
    return value if value <= 100 else None


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
