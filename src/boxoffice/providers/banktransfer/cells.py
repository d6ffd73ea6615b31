"""Reading amount and date cells of bank exports exactly, or saying why not.

* Amounts. A cell may carry a currency (``EUR 12,50``, ``12.50 €``), a sign in front or behind
  (``-12,50``, ``12.50-``) or parentheses. With both ``.`` and ``,`` present the last one is the
  decimal mark. A single mark followed by 1, 2 or 4+ digits is the decimal mark; one used several
  times groups thousands. A single mark followed by exactly three digits (``1,234``) groups
  thousands, because that amount cannot be written in a currency with two decimals otherwise; only
  for three-decimal currencies (KWD, BHD, …) it is ambiguous, and then the caller's
  ``decimal_comma`` decides or the cell is refused. Amounts with more decimals than the currency has
  are refused, never rounded.
* Dates. ``2024-01-31``, ``2024/01/31``, ``20240131``, ``31.01.2024``, ``31.01.24`` and
  ``31-01-2024`` (day first); two-digit years are 20yy; a trailing time is ignored. Slash dates
  (``01/02/2024``) need the caller's ``slash_order`` unless day and month are equal; the CSV reader
  explains how it settles that order per file.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from boxoffice.errors import InvalidValue
from boxoffice.kit.currencies import exponent
from boxoffice.kit.money import normalize

_CURRENCY_MARK = re.compile(r"\b[A-Z]{3}\b|[€$£¥]")
_AMOUNT_SHAPE = re.compile(r"([+-]?)(\d[\d.,]*\d|\d)([+-]?)")
_GROUPED = {".": re.compile(r"\d{1,3}(\.\d{3})+"), ",": re.compile(r"\d{1,3}(,\d{3})+")}


def parse_amount_text(text: str, currency: str, decimal_comma: bool | None = None) -> Decimal:
    """Read a bank's amount cell exactly (see the module docstring); ValueError with the reason."""
    raw = _CURRENCY_MARK.sub("", text.upper().replace("\u2212", "-"))  # U+2212 MINUS SIGN
    raw = re.sub("[\\s'\u2019]", "", raw)  # spaces and Swiss apostrophes group digits
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1]
    shape = _AMOUNT_SHAPE.fullmatch(raw)
    if shape is None or (shape.group(1) and shape.group(3)):
        raise ValueError(f"'{text.strip()}' is not an amount")
    negative = negative or "-" in (shape.group(1), shape.group(3))
    number = _plain_number(shape.group(2), currency, decimal_comma)
    if negative:
        number = -number
    try:
        return normalize(number, currency)
    except InvalidValue as exc:
        raise ValueError(f"'{text.strip()}' has more decimals than {currency} allows") from exc


def _plain_number(body: str, currency: str, decimal_comma: bool | None) -> Decimal:
    dots, commas = body.count("."), body.count(",")
    mark: str | None
    if dots and commas:
        mark = "." if body.rfind(".") > body.rfind(",") else ","
    elif dots + commas == 1:
        mark = "." if dots else ","
        if len(body) - body.rfind(mark) - 1 == 3:
            # "1,234": grouping for any currency with fewer than three decimals.
            if exponent(currency) < 3:
                mark = None
            elif decimal_comma is None:
                raise ValueError(f"'{body}' could be read two ways; say which decimal mark the file uses")
            elif (mark == ",") != decimal_comma:
                mark = None  # it is the file's grouping mark, not its decimal mark
    else:
        mark = None  # no mark, or one mark used several times: it groups thousands
    integer, _, fraction = body.partition(mark) if mark else (body, "", "")
    group = "," if mark == "." else "." if mark == "," else ("." if dots else ",")
    if group in integer:
        if not _GROUPED[group].fullmatch(integer):
            raise ValueError(f"'{body}' has misplaced thousands separators")
        integer = integer.replace(group, "")
    if not integer.isdigit() or (mark and not fraction.isdigit()):
        raise ValueError(f"'{body}' is not an amount")
    return Decimal(f"{integer}.{fraction}" if mark else integer)


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ISO_SLASH = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[.-](\d{1,2})[.-](\d{4}|\d{2})")
SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
TIME_TAIL = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)$")


def parse_date_text(text: str, slash_order: str | None = None, date_format: str | None = None) -> date:
    """Read a date cell. ``slash_order`` is ``"DMY"`` or ``"MDY"`` for slash dates; ValueError if unsure."""
    cell = text.strip()
    if date_format:
        try:
            return datetime.strptime(cell, date_format).date()
        except ValueError:
            raise ValueError(f"'{cell}' does not have the date format '{date_format}'") from None
    cell = TIME_TAIL.sub("", cell)
    year, month, day = _date_parts(cell, slash_order)
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"'{cell}' is not a valid date") from None


def _date_parts(cell: str, slash_order: str | None) -> tuple[int, int, int]:
    if m := _ISO_DATE.fullmatch(cell) or _ISO_SLASH.fullmatch(cell) or _COMPACT_DATE.fullmatch(cell):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m := _DAY_FIRST.fullmatch(cell):
        return _year(m.group(3)), int(m.group(2)), int(m.group(1))
    if m := SLASH_DATE.fullmatch(cell):
        first, second, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        if first == second or slash_order == "DMY":
            return year, second, first
        if slash_order == "MDY":
            return year, first, second
        raise ValueError(f"'{cell}' could be day/month or month/day and the file does not say which")
    raise ValueError(f"'{cell}' is not a date")


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)
