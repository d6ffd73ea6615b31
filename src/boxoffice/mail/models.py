"""The ``mails`` table: one row per e-mail we decided to send, unique per (template, about, cause)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now

# ``logged``: there is no SMTP server (no BOXOFFICE_SMTP_URL), so the mail was printed to the log instead.
MAIL_STATES = ("queued", "sent", "logged", "skipped", "failed")


class Mail(Base):
    """An e-mail and why it exists.

    ``about`` names what it is about (``order:17``, ``organizer:3``) and ``cause`` why it is sent
    (``paid#2026-05-04T18:00:00+00:00``, ``payment:ABCDE-P-2``); the unique key on the three with ``template`` is what makes
    a mail go out at most once per cause, however many workers race to queue it.
    """

    __tablename__ = "mails"
    __table_args__ = (
        UniqueConstraint("template", "about", "cause"),
        Index("ix_mails_state_created", "state", "created_at"),
        Index("ix_mails_order_template", "order_id", "template"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(64))
    about: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(200))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the template needs beyond the order (payment or refund ids, amounts of a bank transfer…).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    subject: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
