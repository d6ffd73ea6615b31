"""Tables of the catalogue: organizers, events, products and quotas."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db import Amount, Base, UTCDateTime
from boxoffice.kit.clock import now

product_quotas = Table(
    "product_quotas",
    Base.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("quota_id", ForeignKey("quotas.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Organizer(Base):
    __tablename__ = "organizers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # How many of its outgoing webhook endpoints are enabled, kept by ``webhooks.service``: an order's
    # change looks for subscribers only when there are some (no query in the common case).
    enabled_webhooks: Mapped[int] = mapped_column(default=0, server_default="0")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("organizer_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    date_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The shop sells only while live; a new event is a draft (not live). In test mode its orders are
    # test orders (left out of the figures) and the sandbox provider may take their "money".
    live: Mapped[bool] = mapped_column(default=False)
    test_mode: Mapped[bool] = mapped_column(default=False)
    # provider id -> settings, validated by the provider's settings model on save.
    payment_providers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # event-wide policies (expiry, late payments, cancellation…), validated by catalogue.rules.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    organizer: Mapped[Organizer] = relationship()


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Amount)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    # The sale window (None: open on that side) and the most of this product one order may hold.
    available_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    available_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_per_order: Mapped[int | None] = mapped_column(Integer)

    quotas: Mapped[list[Quota]] = relationship(secondary=product_quotas, back_populates="products")


class Quota(Base):
    """Capacity shared by products. ``used`` counts seats held by pending and paid orders."""

    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)

    products: Mapped[list[Product]] = relationship(secondary=product_quotas, back_populates="quotas")

    @property
    def available(self) -> int | None:
        """Seats left, or None when the quota is unlimited."""
        return None if self.size is None else max(self.size - self.used, 0)
