"""What counts as personal data in JSON values and free text, and how it is cut out. Pure functions.

Two scopes, because the organizer chooses them separately: *payment details* (card data, payer
names, IBANs — what providers keep) and the *buyer's identity* (e-mail addresses, attendee names).
Cutting is done by key (a value under ``email``, ``iban``, ``payerName``… is emptied) and by value
(text known to be personal — harvested from the attempts' provider data and the order — is cut out
of every other string), so personal data copied into free text or odd keys goes too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SHREDDED = "[shredded]"

# Payment details: keys compared in snake case (``payerName`` and ``payer-name`` read ``payer_name``);
# a key also counts when one of its words is listed (``payer_iban``, ``card``, ``account_holder``).
PAYMENT_KEYS = frozenset({"account_number", "last4", "fingerprint", "exp_month", "exp_year", "cvc"})
PAYMENT_WORDS = frozenset({"iban", "bic", "card", "payer", "holder", "billing", "shipping"})
# The buyer's identity, on top of payment details.
BUYER_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "given_name",
        "family_name",
        "surname",
        "phone",
        "address",
        "street",
        "city",
        "zipcode",
        "postcode",
        "postal_code",
        "birthdate",
        "ip",
    }
)
BUYER_WORDS = frozenset({"email", "buyer", "attendee"})
# Bookkeeping that names attempts and amounts; never cut, so the books (and their audit check) stay whole.
BOOKKEEPING_KEYS = frozenset({"payment", "refund", "amount", "total", "provider", "cancellation_fee", "overpaid_by"})

EMAIL = re.compile(r"[^\s@<>\"',;:()\[\]]+@[^\s@<>\"',;:()\[\]]+\.[A-Za-z]{2,}")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower().replace("-", "_")


def worth_cutting(value: str) -> bool:
    """Whether a known personal value is distinctive enough to cut out of other text.

    Short digit strings (a card's last four digits, an expiry year) would also match inside amounts
    and ids, and one- or two-letter names inside any word; those are only removed where a personal
    key holds them.
    """
    value = value.strip()
    if any(c.isalpha() for c in value):
        return len(value) >= 3
    return len(value) >= 8


@dataclass(frozen=True)
class Policy:
    """What is personal in one shredding scope."""

    buyer: bool  # also the buyer's identity, not only payment details

    def is_personal_key(self, key: str) -> bool:
        snake = _snake(key)
        words = set(snake.split("_"))
        if snake in PAYMENT_KEYS or not PAYMENT_WORDS.isdisjoint(words):
            return True
        return self.buyer and (snake in BUYER_KEYS or not BUYER_WORDS.isdisjoint(words))

    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """Personal data recognisable by its shape alone."""
        return (IBAN, EMAIL) if self.buyer else (IBAN,)


PAYMENT_DETAILS = Policy(buyer=False)
EVERYTHING = Policy(buyer=True)


def harvest(value: Any, policy: Policy = EVERYTHING) -> set[str]:
    """The text under personal keys anywhere in ``value``, plus what the policy's patterns find."""
    found: set[str] = set()

    def walk(node: Any, personal: bool) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, personal or policy.is_personal_key(str(k)))
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v, personal)
        elif isinstance(node, str):
            if personal and node.strip():
                found.add(node.strip())
            for pattern in policy.patterns():
                found.update(m.group(0) for m in pattern.finditer(node))

    walk(value, False)
    return found


def cut(text: str, values: Iterable[str], policy: Policy) -> str:
    """``text`` with every distinctive known value and every shape-recognised one replaced."""
    for value in sorted({v.strip() for v in values if worth_cutting(v)}, key=len, reverse=True):
        # Whole words only: the name "Ann" goes, "annual" stays.
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", SHREDDED, text, flags=re.IGNORECASE)
    for pattern in policy.patterns():
        text = pattern.sub(SHREDDED, text)
    return text


def scrub(value: Any, values: Iterable[str], policy: Policy) -> Any:
    """A copy of a JSON value without personal data: values under personal keys become None, and
    known values and shape-recognised ones are cut out of every other string (bookkeeping keys —
    attempt ids, amounts — are left as they are)."""
    known = list(values)

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            clean: dict[str, Any] = {}
            for k, v in node.items():
                if str(k) in BOOKKEEPING_KEYS and not isinstance(v, Mapping | list):
                    clean[k] = v
                elif policy.is_personal_key(str(k)) and v is not None:
                    clean[k] = None
                else:
                    clean[k] = walk(v)
            return clean
        if isinstance(node, list | tuple):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return cut(node, known, policy)
        return node

    return walk(value)
