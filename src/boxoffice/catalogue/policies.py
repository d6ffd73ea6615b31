"""Per-event expiry policies read from ``Event.settings`` (dasherized keys), as plain functions.

``expiry-minutes``, ``expiry-days``, ``expiry-skip-weekends`` and ``last-payment-date`` set the
deadline (see :func:`boxoffice.orders.rules.expiry_deadline`); this module adds
``expiry-reminder-hours`` (when the buyer is reminded; 0 turns reminders off) and
``late-payment-policy`` (what happens to money that arrives for an expired order whose quota is gone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from boxoffice.errors import InvalidValue


class LatePaymentPolicy(StrEnum):
    """What to do with money that arrives for an expired order.

    ``ask``: nothing by itself — the payment is confirmed, the order stays expired, and the
    organizer accepts it (even over-booking on purpose) or refunds it from the order page.
    ``accept-if-quota`` (the default): the order is paid while its seats are still there, else
    the organizer is asked. ``refund``: paid while its seats are there, else the money goes back at once.
    """

    ASK = "ask"
    ACCEPT_IF_QUOTA = "accept-if-quota"
    REFUND = "refund"


DEFAULT_REMINDER_HOURS = 24
MAX_REMINDER_HOURS = 24 * 14


def late_payment_policy(settings: Mapping[str, Any] | None) -> LatePaymentPolicy:
    """The event's policy: ``accept-if-quota`` when unset; anything unknown reads as ``ask``, which
    never moves money or seats by itself."""
    raw = (settings or {}).get("late-payment-policy", LatePaymentPolicy.ACCEPT_IF_QUOTA.value)
    try:
        return LatePaymentPolicy(str(raw))
    except ValueError:
        return LatePaymentPolicy.ASK


def reminder_hours(settings: Mapping[str, Any] | None) -> int | None:
    """Hours before the deadline the buyer is reminded; None when reminders are off."""
    raw = (settings or {}).get("expiry-reminder-hours", DEFAULT_REMINDER_HOURS)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        return None
    return min(raw, MAX_REMINDER_HOURS)


def reminder_due(*, placed_at: datetime, expires_at: datetime, moment: datetime, hours: int) -> bool:
    """Whether a pending order is inside its reminder window at ``moment``.

    An order whose whole life is shorter than the window gets no reminder: it would arrive right
    after the order mail and say nothing new.
    """
    window = timedelta(hours=hours)
    return expires_at - window <= moment < expires_at and expires_at - placed_at > window


def check_settings(settings: Mapping[str, Any], *, pointer: str = "/data/attributes/settings") -> None:
    """Refuse values of the keys above that the policies could not read (for the event's PATCH)."""
    if "expiry-reminder-hours" in settings:
        value = settings["expiry-reminder-hours"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REMINDER_HOURS:
            raise InvalidValue(
                f"expiry-reminder-hours is a whole number of hours from 0 (off) to {MAX_REMINDER_HOURS}.",
                pointer=f"{pointer}/expiry-reminder-hours",
            )
    if "late-payment-policy" in settings and settings["late-payment-policy"] not in set(LatePaymentPolicy):
        raise InvalidValue(
            f"late-payment-policy is one of {', '.join(p.value for p in LatePaymentPolicy)}.",
            pointer=f"{pointer}/late-payment-policy",
        )
