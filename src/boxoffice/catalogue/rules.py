"""Rules of the catalogue as plain functions: which event settings exist and what values they take.

An event's ``settings`` object holds its policies under dasherized names; each module that reads a
setting documents it (deadlines: :mod:`boxoffice.orders.service`, reminders and late payments:
:mod:`boxoffice.catalogue.policies`, cancellations: :mod:`boxoffice.orders.cancellation`, changes:
:mod:`boxoffice.orders.changes`). Every setting is registered in :data:`SETTINGS` with the check of
its value, so a typo is refused instead of silently doing nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from boxoffice.catalogue.policies import check_settings as check_policies
from boxoffice.errors import InvalidValue
from boxoffice.kit.money import parse_amount, parse_percent

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
    return None  # checked by boxoffice.catalogue.policies.check_settings


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


# -- the event's life and the product's sale ----------------------------------------------------------

RESERVED_SLUGS = frozenset({"team", "activity", "events"})
"""Names of the control panel's organizer pages (``/control/<organizer>/team/``), never an event's."""

TEST_ONLY_PROVIDERS = frozenset({"sandbox"})
"""Providers that move no real money: enabled only while the event is in test mode."""

MAX_PER_ORDER = 100
SCARCE_BELOW = 10
"""The shop says "3 left" when a product has this many seats or fewer."""


def life_state(*, live: bool, test_mode: bool) -> str:
    """``draft`` (the shop sells nothing), ``test-mode`` (it sells test orders) or ``live``."""
    if not live:
        return "draft"
    return "test-mode" if test_mode else "live"


def check_test_providers(payment_providers: Mapping[str, Any], *, test_mode: bool) -> None:
    """Refuse a test-only provider enabled on an event that is not in test mode (422)."""
    if test_mode:
        return
    for identifier in sorted(TEST_ONLY_PROVIDERS):
        if (payment_providers.get(identifier) or {}).get("enabled"):
            raise InvalidValue(
                f"The {identifier} provider takes no real money: it can be enabled only while the event is in "
                "test mode. Disable it before leaving test mode.",
                pointer="/data/attributes/payment-providers",
                code="test-mode-only",
            )


def check_dates(date_from: datetime | None, date_to: datetime | None, pointer: str) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidValue("The end cannot be before the beginning.", pointer=pointer)


def check_max_per_order(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_PER_ORDER:
        raise InvalidValue(
            f"The most per order is a whole number from 1 to {MAX_PER_ORDER}, or empty for no limit.",
            pointer="/data/attributes/max-per-order",
        )
    return value


def sale_window(available_from: datetime | None, available_until: datetime | None, moment: datetime) -> str | None:
    """``before`` or ``after`` a product's sale window at ``moment``; None inside it."""
    if available_from is not None and moment < available_from:
        return "before"
    if available_until is not None and moment > available_until:
        return "after"
    return None


def sale_refusal(
    *, name: str, available_from: datetime | None, available_until: datetime | None, moment: datetime
) -> str | None:
    """Why a product is not on sale at ``moment`` (its sale window), or None."""
    where = sale_window(available_from, available_until, moment)
    if where == "before" and available_from is not None:
        return f"{name} is on sale from {available_from.isoformat(timespec='minutes')}."
    if where == "after" and available_until is not None:
        return f"{name} was on sale until {available_until.isoformat(timespec='minutes')}."
    return None


def check_text(value: str, field: str, *, max_length: int, required: bool = False) -> str:
    """A name or text the organizer wrote: required ones not empty, none longer than ``max_length``."""
    pointer = f"/data/attributes/{field}"
    if required and not value.strip():
        raise InvalidValue(f"Enter the {field.replace('-', ' ')}.", pointer=pointer)
    if len(value) > max_length:
        raise InvalidValue(f"The {field.replace('-', ' ')} has at most {max_length} characters.", pointer=pointer)
    return value


def slugify(name: str) -> str:
    """An event address made from its name: ``Summer Fest 2026`` → ``summer-fest-2026``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].rstrip("-")
