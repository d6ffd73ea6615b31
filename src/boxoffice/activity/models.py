"""The table of the organizer's activity log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now


class ActivityEntry(Base):
    """One change outside an order (an event, product, quota, team member, token): who, what, before → after.

    Changes of orders, payments and refunds go to the order's own audit log instead.
    """

    __tablename__ = "activity_entries"
    __table_args__ = (Index("ix_activity_entries_organizer_id", "organizer_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    # What was changed, e.g. "product:12"; with ``data`` = {"before": {...}, "after": {...}}.
    subject: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
