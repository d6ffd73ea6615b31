"""Tables of check-in: the lists doors scan against and every scan made at them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.catalogue.models import Product
from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now

check_in_list_products = Table(
    "check_in_list_products",
    Base.metadata,
    Column("check_in_list_id", ForeignKey("check_in_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CheckInList(Base):
    """Who a door admits: every product of the event, or some; once, or again on every scan."""

    __tablename__ = "check_in_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    all_products: Mapped[bool] = mapped_column(default=True)
    allow_reentry: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    products: Mapped[list[Product]] = relationship(secondary=check_in_list_products, order_by=Product.id)


class Checkin(Base):
    """One scan at a door, admitted (``ok``) or refused with its reason, with who scanned and when.

    ``admitted_position_id`` is set only on an admission to a list without re-entry; the unique
    constraint on (list, admitted position) is what admits a ticket once when two doors scan it at
    the same moment — the second insert fails and that scan is recorded as ``already-checked-in``.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("check_in_list_id", "admitted_position_id"),
        Index("ix_checkins_list_position", "check_in_list_id", "position_id"),
        Index("ix_checkins_list_id", "check_in_list_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_list_id: Mapped[int] = mapped_column(ForeignKey("check_in_lists.id", ondelete="CASCADE"))
    # None for a scan of text that is no ticket of the event.
    position_id: Mapped[int | None] = mapped_column(ForeignKey("order_positions.id"), index=True)
    admitted_position_id: Mapped[int | None] = mapped_column(ForeignKey("order_positions.id"))
    result: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
