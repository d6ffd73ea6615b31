"""Sandbox test cards: what a card number does, read without any I/O.

Only the brand and the last four digits are ever kept; the number itself is not stored anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
REQUIRES_ACTION = "4000000000003220"
DECLINE_MESSAGE = "Your card was declined."


class Behaviour(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    REQUIRE_ACTION = "require-action"


_SPECIAL = {DECLINED: Behaviour.DECLINE, REQUIRES_ACTION: Behaviour.REQUIRE_ACTION}


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str
    behaviour: Behaviour


class CardNumberInvalid(ValueError):
    """Not a card number; the message is for the buyer."""


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every card number carries."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand(digits: str) -> str:
    """The card brand by its leading digits (the common ones; "card" otherwise)."""
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    return "card"


def read_card(text: str) -> Card:
    """The card behind ``text`` (spaces and dashes allowed); :class:`CardNumberInvalid` otherwise."""
    digits = "".join(ch for ch in text if ch not in " -")
    if not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise CardNumberInvalid("Enter a card number of 12 to 19 digits, e.g. 4242 4242 4242 4242.")
    if not luhn_ok(digits):
        raise CardNumberInvalid("This card number is incorrect.")
    return Card(brand(digits), digits[-4:], _SPECIAL.get(digits, Behaviour.SUCCEED))
