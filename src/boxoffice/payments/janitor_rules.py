"""The janitor's schedule as plain functions: which attempts it asks about, and when.

The schedule is measured from the attempt's creation, so it needs no counter: an open attempt is
asked about 5 minutes, 1 hour, 6 hours, 1, 2 and 3 days after it was made. From 3 days on it is
*unresolved* (shown to the organizer, once) and asked once a day until it is 30 days old.
What the provider's answer means is not decided here but by :mod:`boxoffice.providers.reconcile_rules`,
the same table webhooks and buyer returns go through.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from boxoffice.payments.rules import PaymentState, RefundState

CHECK_AT: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
)
FIRST_CHECK_AFTER = CHECK_AT[0]
UNRESOLVED_AFTER = CHECK_AT[-1]
LATE_CHECK_EVERY = timedelta(days=1)
STOP_CHECKING_AFTER = timedelta(days=30)

# Attempts the janitor looks after: money may have moved and nobody told us yet.
PAYMENT_STATES_TO_CHECK = frozenset({PaymentState.CREATED, PaymentState.PENDING})
REFUND_STATES_TO_CHECK = frozenset({RefundState.CREATED, RefundState.TRANSIT})


def next_check(created_at: datetime, moment: datetime) -> datetime | None:
    """When to ask next about an attempt made at ``created_at``, after asking at ``moment``; None: stop."""
    for offset in CHECK_AT:
        if created_at + offset > moment:
            return created_at + offset
    later = moment + LATE_CHECK_EVERY
    return later if later - created_at <= STOP_CHECKING_AFTER else None


def is_unresolved(created_at: datetime, moment: datetime) -> bool:
    """Whether an attempt still open at ``moment`` has outlived the schedule (the organizer must look)."""
    return moment - created_at >= UNRESOLVED_AFTER

