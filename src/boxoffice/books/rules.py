"""Pure decisions of the books: money owed per order, when an event may be shredded, and what the
audit log must contain. No I/O, no session (scrubbing personal data is in :mod:`.privacy`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from boxoffice.kit.money import ZERO, format_amount

# -- money owed ---------------------------------------------------------------------------------


def overpaid_amount(*, total: Decimal, net_paid: Decimal) -> Decimal:
    """Money the organizer holds beyond the order's total: owed back to the buyer, whatever the status."""
    return max(net_paid - total, ZERO)


def underpaid_amount(*, total: Decimal, net_paid: Decimal, status: str) -> Decimal:
    """Money still missing on an order that counts as paid.

    A pending order's outstanding amount is not "underpaid" (the buyer is still expected to pay; the
    export shows it as ``pending_sum``), so only paid orders report it.
    """
    return max(total - net_paid, ZERO) if status == "paid" else ZERO


# -- what an order's positions cost -------------------------------------------------------------

LivePosition = tuple[int, int, Decimal]
"""``(position id, product id, price)`` of a position that is not canceled."""

PRICE_RECORDS = ("order.placed", "order.changed")


def price_drift(
    action: str | None, data: Mapping[str, Any], live: Iterable[LivePosition], currency: str
) -> tuple[str, str] | None:
    """``(stored, expected)`` when the live positions are not priced as the order's last price
    record in the audit log says — the last ``order.changed`` (every position with its price) or
    else ``order.placed`` (products, quantities and the total) — or None when they are."""
    positions = sorted(live)
    if action == "order.changed":
        recorded = sorted(
            (int(p["position"]), int(p["product"]), Decimal(str(p["price"])))
            for p in (data.get("after") or {}).get("positions", [])
        )
        if positions != recorded:
            return _prices(positions, currency), _prices(recorded, currency)
    elif action == "order.placed":
        products: dict[int, int] = {}
        for line in data.get("positions", []):
            products[int(line["product"])] = products.get(int(line["product"]), 0) + int(line["quantity"])
        held: dict[int, int] = {}
        for _, product, _ in positions:
            held[product] = held.get(product, 0) + 1
        total = sum((price for _, _, price in positions), ZERO)
        if held != products or total != Decimal(str(data.get("total"))):
            return (
                f"{_counts(held)} for {format_amount(total, currency)}",
                f"{_counts(products)} for {data.get('total')} (as placed)",
            )
    return None


def _prices(positions: Iterable[LivePosition], currency: str) -> str:
    return (
        ", ".join(
            f"position {pid} (product {product}) at {format_amount(price, currency)}" for pid, product, price in positions
        )
        or "none"
    )


def _counts(products: Mapping[int, int]) -> str:
    return ", ".join(f"{n} x product {product}" for product, n in sorted(products.items())) or "no positions"


# -- when an event may be shredded ----------------------------------------------------------------


def event_end(date_from: datetime | None, date_to: datetime | None) -> datetime | None:
    """When an event is over: its end, or its start when it has no end; None when it has no dates."""
    return date_to or date_from


def shred_refusal(
    *, date_from: datetime | None, date_to: datetime | None, now: datetime, force: bool, open_refunds: int
) -> str | None:
    """Why the event's personal data may not be shredded now, or None when it may.

    Open refunds always refuse: money committed to go back may still need the buyer's account details.
    An event that has not ended refuses unless the organizer explicitly forces it.
    """
    if open_refunds:
        return (
            f"{open_refunds} order(s) have open refunds; mark them done or cancel them first, "
            "because returning the money may still need the buyer's payment details."
        )
    if force:
        return None
    end = event_end(date_from, date_to)
    if end is None:
        return "The event has no dates, so it cannot be known to be over; confirm with force to shred anyway."
    if end > now:
        return f"The event ends at {end.isoformat()}; confirm with force to shred before then."
    return None


# -- the audit trail every state needs ------------------------------------------------------------

# The audit action a payment, refund or order must have for the state it is in (current state only:
# earlier states may have been left since, and their entries are checked when they are current).
PAYMENT_STATE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "pending": ("payment.pending",),
    "confirmed": ("payment.confirmed",),
    "refunded": ("payment.confirmed", "payment.refunded"),
    "failed": ("payment.failed",),
    "canceled": ("payment.canceled",),
}
REFUND_STATE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "transit": ("refund.transit",),
    "done": ("refund.done",),
    "failed": ("refund.failed",),
    "canceled": ("refund.canceled",),
}
ORDER_STATUS_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "paid": ("order.paid",),
    "expired": ("order.expired",),
    "canceled": ("order.canceled",),
}
# Every attempt and order is born with one of these (a refund recorded from outside starts external).
PAYMENT_BIRTH = ("payment.created",)
REFUND_BIRTH = ("refund.created", "refund.external")
ORDER_BIRTH = ("order.placed",)

AUDITED_ACTIONS = frozenset(
    a
    for table in (PAYMENT_STATE_ACTIONS, REFUND_STATE_ACTIONS, ORDER_STATUS_ACTIONS)
    for actions in table.values()
    for a in actions
) | frozenset(PAYMENT_BIRTH + REFUND_BIRTH + ORDER_BIRTH)


@dataclass(frozen=True)
class Subject:
    """Something whose audit trail is checked: an order (``full_id`` None), a payment or a refund."""

    order_id: int
    kind: str  # "order", "payment" or "refund"
    full_id: str
    state: str


@dataclass(frozen=True)
class MissingEntry:
    subject: Subject
    actions: tuple[str, ...]  # any one of these would do

    def __str__(self) -> str:
        wanted = " or ".join(f"'{a}'" for a in self.actions)
        return f"{self.subject.kind} {self.subject.full_id} is {self.subject.state} but has no {wanted} entry"


def required_entries(subject: Subject) -> list[tuple[str, ...]]:
    """The audit actions ``subject`` needs: one of each returned tuple."""
    births: tuple[str, ...]
    if subject.kind == "payment":
        births, table = PAYMENT_BIRTH, PAYMENT_STATE_ACTIONS
    elif subject.kind == "refund":
        births, table = REFUND_BIRTH, REFUND_STATE_ACTIONS
    else:
        births, table = ORDER_BIRTH, ORDER_STATUS_ACTIONS
    return [births, *((action,) for action in table.get(subject.state, ()))]


def audit_key(action: str, data: Mapping[str, Any], order_id: int, order_code: str) -> tuple[int, str, str]:
    """How an audit entry is matched to its subject: order, action, and the full id it names.

    Payment and refund entries name their attempt (``CODE-P-1``) under ``payment`` or ``refund``;
    order entries are matched by the order's code.
    """
    if action.startswith("payment."):
        return order_id, action, str(data.get("payment", ""))
    if action.startswith("refund."):
        return order_id, action, str(data.get("refund", ""))
    return order_id, action, order_code


def missing_entries(subjects: Iterable[Subject], present: set[tuple[int, str, str]]) -> list[MissingEntry]:
    """The required audit entries not in ``present`` (keys as made by :func:`audit_key`)."""
    missing: list[MissingEntry] = []
    for subject in subjects:
        for alternatives in required_entries(subject):
            if not any((subject.order_id, action, subject.full_id) in present for action in alternatives):
                missing.append(MissingEntry(subject, alternatives))
    return missing
