"""The sandbox processor's own books: its intents and refunds, with its own ids.

They play the part of the remote side (like Stripe's PaymentIntents and Refunds): boxoffice's
payments and refunds only ever learn about them through the processor's answers and callbacks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now


class SandboxIntent(Base):
    """One attempt to charge a card, from creation to succeeded, failed or canceled."""

    __tablename__ = "sandbox_intents"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_id: Mapped[str] = mapped_column(String(40), unique=True)
    # Same key, same intent: a retried create call gets the first answer back.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Minor units, as remote processors count (cents; yen).
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # requires_confirmation, requires_action, succeeded, failed, canceled
    status: Mapped[str] = mapped_column(String(32))
    behaviour: Mapped[str] = mapped_column(String(16))
    card_brand: Mapped[str] = mapped_column(String(16))
    card_last4: Mapped[str] = mapped_column(String(4))
    # The secret in the confirmation page's URL while the intent requires action.
    confirmation_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The caller's references (boxoffice sends its event id and the payment's full id).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class SandboxRefund(Base):
    """Money given back from a succeeded intent."""

    __tablename__ = "sandbox_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[str] = mapped_column(String(40), unique=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("sandbox_intents.intent_id"), index=True)
    # None for refunds made "in the processor's dashboard" (no caller, no key).
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
