"""Transfer references: what a buyer writes on a bank transfer so we can find the order again.

A reference is ``PREFIX-CODEC``: an event prefix (from the event slug), the 5-character order code
and one check character, e.g. ``DEMOCO-K7M2QX``.

The check character is the Damm scheme over the 32-symbol order-code alphabet, with the quasigroup
``s ∘ d = x·s + d`` in the field GF(32) = GF(2)[x]/(x⁵ + x² + 1). Rows and columns of that table are
permutations, so a substitution changes the running state and the state stays different afterwards;
and ``(s ∘ a) ∘ b = (s ∘ b) ∘ a`` only when ``a = b`` (totally anti-symmetric), so swapping two
neighbours changes the result too. Hence every single substitution and every adjacent transposition
in code + check character is detected. The tests check both table properties exhaustively.

The check covers the order code only. Prefixes are cut-down slugs that can repeat between events, so
they only help people read the reference and help us find it in remittance noise; the order itself
is always identified by its code within the event being reconciled.

Prefixes may contain O, I, 0 and 1 (the slug's letters); buyers confuse those, so O/0 and I/1 are the
same character when a prefix is compared. The code alphabet has none of the four, so the code part
needs no such folding: a 0, O, 1 or I there is simply an error the check refuses.
"""

from __future__ import annotations

import re
import unicodedata

from boxoffice.errors import InvalidValue
from boxoffice.kit.codes import ORDER_CODE_ALPHABET, ORDER_CODE_LENGTH

ALPHABET = ORDER_CODE_ALPHABET
PREFIX_MAX_LENGTH = 6
# Used when a slug has no ASCII letter or digit at all (e.g. written only in another script).
DEFAULT_PREFIX = "BO"

_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
_CODE_AND_CHECK = ORDER_CODE_LENGTH + 1
# x⁵ + x² + 1, irreducible over GF(2): multiplying by x reduces with it.
_MODULUS = 0b100101
_FOLD = str.maketrans({"O": "0", "I": "1"})
# Spaces, underscores, and hyphen/dash look-alikes (U+2010, U+2011, U+2013, U+2014).
_REFERENCE_SEPARATORS = re.compile("[\\s_\\-\u2010\u2011\u2013\u2014]+")
_REFERENCE_SHAPE = re.compile(rf"([A-Z0-9]{{1,{PREFIX_MAX_LENGTH}}})([{ALPHABET}]{{{_CODE_AND_CHECK}}})")
_TOKEN = re.compile(r"[A-Z0-9]+")


def _times_x(value: int) -> int:
    """Multiply a GF(32) element (5 bits) by x."""
    value <<= 1
    if value & 0b100000:
        value ^= _MODULUS
    return value


def damm_step(state: int, symbol: int) -> int:
    """The quasigroup operation ``state ∘ symbol``; public so the tests can check the table."""
    return _times_x(state) ^ symbol


def _state(symbols: str) -> int:
    state = 0
    for symbol in symbols:
        state = damm_step(state, _VALUE[symbol])
    return state


def check_character(order_code: str) -> str:
    """The check character for an order code (the one that brings the Damm state back to zero)."""
    _require_code(order_code)
    # damm_step(s, c) == 0  <=>  c == x·s, so the check character is x·s itself.
    return ALPHABET[_times_x(_state(order_code))]


def _has_valid_check(code_and_check: str) -> bool:
    return _state(code_and_check) == 0


def _require_code(order_code: str) -> None:
    if len(order_code) != ORDER_CODE_LENGTH or any(symbol not in _VALUE for symbol in order_code):
        raise InvalidValue(f"'{order_code}' is not an order code ({ORDER_CODE_LENGTH} characters of {ALPHABET}).")


def event_prefix(event_slug: str) -> str:
    """The reference prefix of an event: its slug in ASCII capitals and digits, at most 6 long."""
    ascii_text = unicodedata.normalize("NFKD", event_slug).encode("ascii", "ignore").decode()
    letters = "".join(ch for ch in ascii_text.upper() if ch.isascii() and ch.isalnum())
    return letters[:PREFIX_MAX_LENGTH] or DEFAULT_PREFIX


def make_reference(event_slug: str, order_code: str) -> str:
    """The transfer reference for an order, e.g. ``make_reference("demo-conf", "K7M2Q")``."""
    return f"{event_prefix(event_slug)}-{order_code}{check_character(order_code)}"


def _split(text: str) -> tuple[str, str] | None:
    compact = _REFERENCE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    shape = _REFERENCE_SHAPE.fullmatch(compact)
    if shape is None or not _has_valid_check(shape.group(2)):
        return None
    return shape.group(1), shape.group(2)


def is_valid_reference(text: str) -> bool:
    """True if ``text`` is one reference (any case, spaces or dashes allowed) with a valid check."""
    return _split(text) is not None


def order_code_of(reference: str) -> str:
    """The order code inside a reference; :class:`InvalidValue` if the reference is not valid."""
    parts = _split(reference)
    if parts is None:
        raise InvalidValue(f"'{reference}' is not a valid transfer reference.")
    return parts[1][:ORDER_CODE_LENGTH]


def find_references(text: str, event_slug: str) -> list[str]:
    """References of this event found in remittance text, normalized, de-duplicated, in order.

    Tolerates lower case, any spaces, dashes, dots or line breaks inside the reference, and O/0, I/1
    mix-ups in the prefix. The prefix must start a word and the check character must end one, which
    keeps stray letter runs in longer words from being read as references.
    """
    prefix = event_prefix(event_slug)
    wanted = prefix.translate(_FOLD)
    # Keep only ASCII letters and digits, remembering where words started and ended in the original
    # text: separators inside a reference vanish, word boundaries stay known.
    normalized = unicodedata.normalize("NFKC", text).upper()
    kept: list[str] = []
    starts_word: list[bool] = []
    ends_word: list[bool] = []
    for index, char in enumerate(normalized):
        if not _is_word_char(char):
            continue
        kept.append(char)
        starts_word.append(index == 0 or not _is_word_char(normalized[index - 1]))
        ends_word.append(index + 1 == len(normalized) or not _is_word_char(normalized[index + 1]))
    squeezed = "".join(kept)
    found: list[str] = []
    for start in range(len(squeezed) - len(prefix) - _CODE_AND_CHECK + 1):
        code_at = start + len(prefix)
        end = code_at + _CODE_AND_CHECK
        tail = squeezed[code_at:end]
        if (
            starts_word[start]
            and ends_word[end - 1]
            and squeezed[start:code_at].translate(_FOLD) == wanted
            and all(symbol in _VALUE for symbol in tail)
            and _has_valid_check(tail)
        ):
            reference = f"{prefix}-{tail}"
            if reference not in found:
                found.append(reference)
    return found


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def find_checked_codes(text: str) -> list[str]:
    """Order codes written without prefix but with their check character (``K7M2QX``), in order."""
    codes: list[str] = []
    for token in _tokens(text):
        if len(token) == _CODE_AND_CHECK and all(s in _VALUE for s in token) and _has_valid_check(token):
            code = token[:ORDER_CODE_LENGTH]
            if code not in codes:
                codes.append(code)
    return codes


def find_plain_codes(text: str) -> list[str]:
    """Words that have the shape of an order code (``K7M2Q``); nothing proves they are one."""
    codes: list[str] = []
    for token in _tokens(text):
        if len(token) == ORDER_CODE_LENGTH and all(s in _VALUE for s in token) and token not in codes:
            codes.append(token)
    return codes


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).upper())
