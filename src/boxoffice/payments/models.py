"""Tables of payment and refund attempts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db import Amount, Base, UTCDateTime
from boxoffice.kit.clock import now
from boxoffice.orders.models import Order


class Payment(Base):
    """One attempt to move one amount of money from the buyer to the organizer."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("order_id", "local_id"),
        Index("ix_payments_state_created", "state", "created_at"),
        Index("ix_payments_provider_reference", "provider", "provider_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    local_id: Mapped[int]
    provider: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Amount)
    state: Mapped[str] = mapped_column(String(16), default="created")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    payment_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The provider's id for this attempt (PaymentIntent, PayPal order, bank reference…), for lookups.
    provider_reference: Mapped[str | None] = mapped_column(String(200))
    # Provider-owned data (may hold personal data; emptied by the shredder).
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="payments")

    @property
    def full_id(self) -> str:
        return f"{self.order.code}-P-{self.local_id}"


class Refund(Base):
    """One attempt to move money back from the organizer to the buyer."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("order_id", "local_id"),
        Index("ix_refunds_state_created", "state", "created_at"),
        Index("ix_refunds_provider_reference", "provider", "provider_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    local_id: Mapped[int]
    provider: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Amount)
    state: Mapped[str] = mapped_column(String(16), default="created")
    source: Mapped[str] = mapped_column(String(16), default="admin")
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    execution_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_reference: Mapped[str | None] = mapped_column(String(200))
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="refunds")
    payment: Mapped[Payment | None] = relationship()

    @property
    def full_id(self) -> str:
        return f"{self.order.code}-R-{self.local_id}"
