"""The ``provider_events`` table: every verified provider callback, stored once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now


class EventState(StrEnum):
    RECEIVED = "received"  # stored, not (successfully) processed yet
    PROCESSED = "processed"  # applied to our payments and refunds
    IGNORED = "ignored"  # a type the provider does not act on
    FAILED = "failed"  # refused by our rules, or still failing after every retry


class ProviderEvent(Base):
    """One event a provider sent us. ``(provider, external_id)`` is unique: a replay is a no-op."""

    __tablename__ = "provider_events"
    __table_args__ = (
        UniqueConstraint("provider", "external_id"),
        Index("ix_provider_events_state_updated", "state", "updated_at"),
        Index("ix_provider_events_organizer", "organizer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    # The provider's own id of the event (Stripe's evt_…, PayPal's WH-…, the sandbox's sbx_evt_…).
    external_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(128))
    # The event as the provider sent it (verified), for processing and for the organizer to read.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizers.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=EventState.RECEIVED)
    attempts: Mapped[int] = mapped_column(default=0)
    # What processing did ("ABCDE-P-1: order-paid", why it was ignored), for the organizer to read.
    detail: Mapped[str | None] = mapped_column(String(1000))
    last_error: Mapped[str | None] = mapped_column(String(2000))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # When the event was stored or last tried: the sweep picks up received events untouched for a while.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
