"""ISO 4217 minor units: how many decimals an amount in a currency has."""

from __future__ import annotations

from datetime import date
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_name, get_territory_currencies

# Currencies whose minor unit is not 2 (ISO 4217). Everything else has two decimals.
EXPONENTS: dict[str, int] = {
    # no minor unit
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

MAX_EXPONENT = 3


def exponent(currency: str) -> int:
    """Number of decimals of ``currency`` (EUR 2, JPY 0, KWD 3)."""
    return EXPONENTS.get(currency.upper(), 2)


def is_currency_code(code: str) -> bool:
    """True for a syntactically valid ISO 4217 code (three upper-case letters)."""
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


@cache
def iso_currencies() -> dict[str, str]:
    """The currencies in use today (legal tender of some territory, ISO 4217), code → English name."""
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, date.today(), tender=True))
    return {code: get_currency_name(code, locale="en") for code in sorted(codes)}


def is_iso_currency(code: str) -> bool:
    """True for the code of a currency in use today (EUR, JPY, KWD…), not just three letters."""
    return is_currency_code(code) and code in iso_currencies()
