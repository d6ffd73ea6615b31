"""ISO 4217 currencies: which codes name money, and how many decimals an amount in each has."""

from __future__ import annotations

from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_name

# ISO 4217 minor units where they are not 2. Not CLDR's display digits, which Babel also knows:
# those round HUF, COP or IQD to whole units for display, while ISO (and banks, and Stripe) keep them.
EXPONENTS: dict[str, int] = {
    # no minor unit
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

MAX_EXPONENT = 3


def exponent(currency: str) -> int:
    """Number of decimals of ``currency`` (EUR 2, JPY 0, KWD 3)."""
    return EXPONENTS.get(currency.upper(), 2)


@cache
def currency_codes() -> frozenset[str]:
    """The ISO 4217 codes of the currencies that are legal tender somewhere now, from CLDR's
    territory data as Babel ships it: no ``XXX`` (no currency), ``XTS`` (testing), precious metals,
    fund codes (``CHE``, ``USN``) or withdrawn currencies (``DEM``, ``HRK``)."""
    territories = get_global("territory_currencies")
    return frozenset(
        code
        for spans in territories.values()
        for code, _start, end, tender in spans
        if end is None and tender
    )


def is_currency_code(code: str) -> bool:
    """True for the code of a currency in use (``EUR``, ``JPY``); false for ``XXX``, ``ABC``, ``eur``."""
    return code in currency_codes()


@cache
def currency_names() -> dict[str, str]:
    """The currencies in use (:func:`currency_codes`), code → English name, for choosing one in a form."""
    return {code: get_currency_name(code, locale="en") for code in sorted(currency_codes())}
