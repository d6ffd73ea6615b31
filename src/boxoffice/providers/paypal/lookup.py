"""Which of our payments and refunds a PayPal object is about.

Captures carry our mark in ``custom_id`` (copied from the order's purchase unit) and name their
PayPal order; refunds name their capture (``links`` rel ``up``) and carry our mark in
``invoice_id`` when we made them; disputes name the capture as ``seller_transaction_id``. A mark
only counts when the full id matches, so another installation's objects are never taken for ours.

A PayPal order approved for one attempt may be captured by a later one (the Open Event charge
with ``{"paypal": "<order id>"}`` is an attempt of its own); the earlier attempt then records
``superseded-by``, and everything addressed to it is followed to the attempt that holds the money.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.paypal.rules import read_mark
from boxoffice.providers.paypal.settings import IDENTIFIER

SUPERSEDED_BY = "superseded-by"
CAPTURE_ID = "capture-id"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def marked_payment(session: Session, custom_id: str | None) -> Payment | None:
    """The PayPal payment a ``custom_id`` mark names (full id checked)."""
    claimed = read_mark(custom_id)
    if claimed is None:
        return None
    payment = session.get(Payment, claimed[0])
    if payment is None or payment.provider != IDENTIFIER or payment.full_id != claimed[1]:
        return None
    return payment


def claims_refund(invoice_id: str | None) -> bool:
    """Whether an ``invoice_id`` is the mark of one of our refunds."""
    claimed = read_mark(invoice_id)
    return claimed is not None and "-R-" in claimed[1]


def marked_refund(session: Session, invoice_id: str | None) -> Refund | None:
    """Our refund an ``invoice_id`` mark names (full id checked)."""
    claimed = read_mark(invoice_id)
    if claimed is None:
        return None
    refund = session.get(Refund, claimed[0])
    if refund is None or refund.full_id != claimed[1]:
        return None
    return refund


def payment_by_order(session: Session, paypal_order_id: str | None) -> Payment | None:
    """The PayPal payment of a PayPal order (the first attempt that used it)."""
    if not paypal_order_id:
        return None
    return session.execute(
        select(Payment)
        .where(Payment.provider == IDENTIFIER, Payment.provider_reference == paypal_order_id)
        .order_by(Payment.id)
        .limit(1)
    ).scalar_one_or_none()


def payment_by_capture(session: Session, capture_id: str | None) -> Payment | None:
    """The PayPal payment that captured ``capture_id``."""
    if not capture_id:
        return None
    return session.execute(
        select(Payment)
        .where(Payment.provider == IDENTIFIER, Payment.info[CAPTURE_ID].as_string() == capture_id)
        .order_by(Payment.id)
        .limit(1)
    ).scalar_one_or_none()


def capture_of_refund(resource: Mapping[str, Any]) -> str | None:
    """The capture a refund (or reversal) belongs to: its ``up`` link ends with the capture id."""
    links = resource.get("links")
    for link in links if isinstance(links, list) else []:
        href = _str(link.get("href")) if isinstance(link, Mapping) else None
        if href and link.get("rel") == "up" and "/captures/" in href:
            return href.rstrip("/").rsplit("/", 1)[-1]
    return None


def captures_of_dispute(resource: Mapping[str, Any]) -> list[str]:
    found = resource.get("disputed_transactions")
    ids = (
        [_str(t.get("seller_transaction_id")) for t in found if isinstance(t, Mapping)]
        if isinstance(found, list)
        else []
    )
    return [i for i in ids if i]


def related_order_id(resource: Mapping[str, Any]) -> str | None:
    """The PayPal order a capture belongs to (``supplementary_data.related_ids.order_id``)."""
    data = resource.get("supplementary_data")
    related = data.get("related_ids") if isinstance(data, Mapping) else None
    return _str(related.get("order_id")) if isinstance(related, Mapping) else None


def follow(session: Session, payment: Payment) -> Payment:
    """The attempt that took over ``payment``'s PayPal order, if another one did."""
    seen = {payment.id}
    while (successor := payment.info.get(SUPERSEDED_BY)) and successor not in seen:
        # Read afresh: the successor may have changed since this session first saw it.
        following = session.get(Payment, successor, populate_existing=True)
        if following is None:
            break
        seen.add(following.id)
        payment = following
    return payment


def payment_of(session: Session, event_type: str, resource: Mapping[str, Any]) -> Payment | None:
    """Our payment a webhook event's resource is about (None: not ours)."""
    if event_type.startswith("CUSTOMER.DISPUTE."):
        found = next(
            (p for p in (payment_by_capture(session, c) for c in captures_of_dispute(resource)) if p is not None), None
        )
    elif event_type.startswith("CHECKOUT.ORDER."):
        units = resource.get("purchase_units")
        unit = units[0] if isinstance(units, list) and units and isinstance(units[0], Mapping) else {}
        found = marked_payment(session, _str(unit.get("custom_id"))) or payment_by_order(
            session, _str(resource.get("id"))
        )
    else:
        capture_id = capture_of_refund(resource) if event_type in REFUND_EVENTS else _str(resource.get("id"))
        found = (
            marked_payment(session, _str(resource.get("custom_id")))
            or payment_by_capture(session, capture_id)
            or payment_by_order(session, related_order_id(resource))
        )
    return follow(session, found) if found is not None else None


# Events whose resource is a refund of a capture rather than the capture itself.
REFUND_EVENTS = frozenset({"PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"})
