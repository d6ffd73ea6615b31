"""Which of our payments and refunds a Stripe object is about.

Our ids travel as metadata on the PaymentIntents and Refunds we create; objects without our
metadata (charges, disputes, refunds made in the dashboard) name the PaymentIntent, which is the
payment's ``provider_reference``. Metadata only counts when the full id matches too, so an object
of another installation sharing the Stripe account is never taken for ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.stripe.rules import PAYMENT_KEY, REFUND_KEY, claimed_row
from boxoffice.providers.stripe.settings import IDENTIFIER


def metadata_of(obj: Mapping[str, Any]) -> dict[str, str]:
    found = obj.get("metadata")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}


def named_payment(session: Session, metadata: Mapping[str, str]) -> Payment | None:
    """The payment metadata names, if it exists and is a Stripe payment with that full id."""
    claimed = claimed_row(metadata, PAYMENT_KEY)
    if claimed is None:
        return None
    payment = session.get(Payment, claimed[0])
    if payment is None or payment.provider != IDENTIFIER or payment.full_id != claimed[1]:
        return None
    return payment


def claims_refund(metadata: Mapping[str, str]) -> bool:
    """Whether metadata says the object is a refund we made."""
    return claimed_row(metadata, REFUND_KEY) is not None


def named_refund(session: Session, metadata: Mapping[str, str]) -> Refund | None:
    """The refund metadata names, if it exists with that full id."""
    claimed = claimed_row(metadata, REFUND_KEY)
    if claimed is None:
        return None
    refund = session.get(Refund, claimed[0])
    if refund is None or refund.full_id != claimed[1]:
        return None
    return refund


def payment_by_intent(session: Session, intent_id: str | None) -> Payment | None:
    """The Stripe payment whose PaymentIntent is ``intent_id``."""
    if not intent_id:
        return None
    return session.execute(
        select(Payment)
        .where(Payment.provider == IDENTIFIER, Payment.provider_reference == intent_id)
        .order_by(Payment.id)
        .limit(1)
    ).scalar_one_or_none()


def intent_id_of(obj: Mapping[str, Any]) -> str | None:
    """The PaymentIntent an object is (``pi_…``) or belongs to (charges, refunds, disputes)."""
    if obj.get("object") == "payment_intent":
        value = obj.get("id")
    else:
        value = obj.get("payment_intent")
        if isinstance(value, Mapping):  # expanded
            value = value.get("id")
    return value if isinstance(value, str) else None


def payment_of(session: Session, obj: Mapping[str, Any]) -> Payment | None:
    """Our payment a PaymentIntent, Charge, Refund or Dispute is about (None: not ours)."""
    metadata = metadata_of(obj)
    payment = named_payment(session, metadata)
    if payment is None:
        refund = named_refund(session, metadata)
        payment = refund.payment if refund is not None else None
    return payment or payment_by_intent(session, intent_id_of(obj))
