"""Rules of the catalogue as plain functions: which event settings exist and what values they take.

An event's ``settings`` object holds its policies under dasherized names; each module that reads a
setting documents it (deadlines: :mod:`boxoffice.orders.service`, reminders and late payments:
:mod:`boxoffice.orders.policies`, cancellations: :mod:`boxoffice.orders.cancellation`, changes:
:mod:`boxoffice.orders.changes`). Every setting is registered in :data:`SETTINGS` with the check of
its value, so a typo is refused instead of silently doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from boxoffice.errors import InvalidValue
from boxoffice.kit.money import parse_amount, parse_percent
from boxoffice.orders.policies import check_settings as check_policies

SETTINGS_POINTER = "/data/attributes/settings"
MAX_EXPIRY_MINUTES = 60 * 24 * 365
MAX_EXPIRY_DAYS = 365

Check = Callable[[Any, str], str | None]
"""``check(value, currency)``: why ``value`` is refused, or None when it is fine."""


def _whole(low: int, high: int) -> Check:
    def check(value: Any, currency: str) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"a whole number from {low} to {high}"
        return None

    return check


def _flag(value: Any, currency: str) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _timestamp(value: Any, currency: str) -> str | None:
    problem = "an RFC 3339 timestamp with a time zone"
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        # In UTC too: it is compared with and stored as UTC timestamps.
        return None if parsed is not None and parsed.tzinfo is not None and parsed.astimezone(UTC) else problem
    except (ValueError, OverflowError):
        return problem


def _amount(value: Any, currency: str) -> str | None:
    try:
        parse_amount(value, currency)
    except InvalidValue:
        return f'a decimal string in {currency}, zero or more, such as "5.00"'
    return None


def _percent(value: Any, currency: str) -> str | None:
    return None if parse_percent(value) is not None else 'a decimal string from "0" to "100"'


def _choice(*choices: str) -> Check:
    def check(value: Any, currency: str) -> str | None:
        return None if value in choices else "one of " + ", ".join(choices)

    return check


def _policy(value: Any, currency: str) -> str | None:
    return None  # checked by boxoffice.orders.policies.check_settings


SETTINGS: dict[str, Check] = {
    "expiry-minutes": _whole(1, MAX_EXPIRY_MINUTES),
    "expiry-days": _whole(0, MAX_EXPIRY_DAYS),
    "expiry-skip-weekends": _flag,
    "last-payment-date": _timestamp,
    "expiry-reminder-hours": _policy,
    "late-payment-policy": _policy,
    "payment-fee-refundable": _flag,
    "buyer-cancel-unpaid": _flag,
    "buyer-cancel-paid": _flag,
    "buyer-cancel-deadline": _timestamp,
    "buyer-cancel-fee-abs": _amount,
    "buyer-cancel-fee-percent": _percent,
    "change-underpaid-policy": _choice("pending", "keep-paid"),
}


def merge_settings(current: Mapping[str, Any], changes: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """``current`` with ``changes`` applied (a ``null`` value removes the setting), every value checked.

    Refuses unknown settings and wrong values with a pointer at the setting.
    """
    if not isinstance(changes, Mapping):
        raise InvalidValue("settings must be an object: setting name → value.", pointer=SETTINGS_POINTER)
    merged = dict(current)
    for name, value in changes.items():
        pointer = f"{SETTINGS_POINTER}/{name}"
        check = SETTINGS.get(name)
        if check is None:
            raise InvalidValue(
                f"There is no event setting '{name}' (known: {', '.join(sorted(SETTINGS))}).",
                pointer=pointer,
                code="unknown-setting",
            )
        if value is None:
            merged.pop(name, None)
            continue
        problem = check(value, currency)
        if problem is not None:
            raise InvalidValue(f"{name} is {problem}.", pointer=pointer, code="invalid-setting")
        merged[name] = value
    check_policies(merged, pointer=SETTINGS_POINTER)
    return merged


def check_timezone(name: str, pointer: str = "/data/attributes/timezone") -> str:
    """``name`` when it is an IANA time zone such as Europe/Berlin."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"'{name}' is not an IANA time zone such as Europe/Berlin.", pointer=pointer) from None
    return name
