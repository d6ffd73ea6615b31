"""Tables of orders: the order with its stored balance, positions, fees and the audit log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.catalogue.models import Event, Product
from boxoffice.db import Amount, Base, UTCDateTime
from boxoffice.kit.clock import now
from boxoffice.kit.codes import new_ticket_secret
from boxoffice.kit.money import ZERO
from boxoffice.payments.rules import COUNTING_PAYMENT_STATES

if TYPE_CHECKING:
    from boxoffice.payments.models import Payment, Refund


class Order(Base):
    """An order and its derived balance.

    ``total`` is the sum of the live positions and fees. The balance columns (``payment_total``,
    ``refund_total``, ``pending_sum``, ``payment_state``, ``has_open_refund``) are derived from the
    payments and refunds and written in the same transaction as every change, so organizer lists
    filter by index; ``boxoffice books verify`` recomputes them and reports drift.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        Index("ix_orders_event_status", "event_id", "status"),
        Index("ix_orders_event_payment_state", "event_id", "payment_state"),
        Index("ix_orders_payment_state", "payment_state"),
        Index("ix_orders_open_refund", "has_open_refund"),
        Index("ix_orders_status_expires", "status", "expires_at"),
        Index("ix_orders_email", "email"),
        Index("ix_orders_code", "code"),
        # Migration 0007: the organizer's lists and counts at a million orders (docs/benchmarks.md).
        Index("ix_orders_event_payment_state_created", "event_id", "payment_state", "created_at"),
        Index("ix_orders_event_open_refund", "event_id", "has_open_refund"),
        Index("ix_orders_event_created", "event_id", "created_at"),
        # Migration 0009: whether an event has test-mode orders, which its figures leave out.
        Index("ix_orders_event_test_mode", "event_id", "test_mode"),
        Index("ix_orders_code_pattern", "code", postgresql_ops={"code": "varchar_pattern_ops"}).ddl_if(
            dialect="postgresql"
        ),
        Index("ix_orders_email_lower_pattern", text("lower(email) text_pattern_ops")).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    code: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    total: Mapped[Decimal] = mapped_column(Amount, default=ZERO)
    payment_mode: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether the positions currently hold seats in their quotas (pending/paid: yes; expired/canceled: no).
    holds_quota: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # Placed while the event was in test mode: fixed for good, left out of figures and totals.
    test_mode: Mapped[bool] = mapped_column(default=False)

    payment_total: Mapped[Decimal] = mapped_column(Amount, default=ZERO)
    refund_total: Mapped[Decimal] = mapped_column(Amount, default=ZERO)
    pending_sum: Mapped[Decimal] = mapped_column(Amount, default=ZERO)
    payment_state: Mapped[str] = mapped_column(String(24), default="unpaid")
    has_open_refund: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship()
    positions: Mapped[list[OrderPosition]] = relationship(
        back_populates="order", order_by="OrderPosition.id", cascade="all, delete-orphan"
    )
    fees: Mapped[list[OrderFee]] = relationship(
        back_populates="order", order_by="OrderFee.id", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="order", order_by="Payment.local_id")
    refunds: Mapped[list[Refund]] = relationship(back_populates="order", order_by="Refund.local_id")

    @property
    def currency(self) -> str:
        return self.event.currency

    @property
    def live_positions(self) -> list[OrderPosition]:
        return [p for p in self.positions if not p.canceled]

    @property
    def live_fees(self) -> list[OrderFee]:
        return [f for f in self.fees if not f.canceled]

    @property
    def open_payment_fees(self) -> list[OrderFee]:
        """Payment fee lines not paid yet: set for an attempt that has not brought its money (or for
        none yet). They follow the amount still to pay; the others stay as they were paid."""
        return [f for f in self.live_fees if f.fee_type == "payment" and not f.paid]


class OrderPosition(Base):
    """One ticket in an order, with the price it was sold at and the secret its QR code holds."""

    __tablename__ = "order_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    price: Mapped[Decimal] = mapped_column(Amount)
    canceled: Mapped[bool] = mapped_column(default=False)
    attendee_name: Mapped[str | None] = mapped_column(String(200))
    # The ticket's QR code content, drawn when the position is inserted (placement or change) and
    # never changed; a canceled position keeps it but is refused at the door (boxoffice.tickets).
    secret: Mapped[str] = mapped_column(String(64), unique=True, default=new_ticket_secret)

    order: Mapped[Order] = relationship(back_populates="positions")
    product: Mapped[Product] = relationship()


FEE_TYPES = ("payment", "cancellation", "service", "other")


class OrderFee(Base):
    """A fee line on an order: payment fee of the chosen provider, cancellation fee, …"""

    __tablename__ = "order_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    fee_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[Decimal] = mapped_column(Amount)
    provider: Mapped[str | None] = mapped_column(String(64))
    canceled: Mapped[bool] = mapped_column(default=False)
    # A payment fee belongs to the attempt that pays it (pretix's OrderPayment.fee): once that
    # attempt is confirmed the fee is paid and stays; until then it follows what is left to pay.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))

    order: Mapped[Order] = relationship(back_populates="fees")
    payment: Mapped[Payment | None] = relationship()

    @property
    def paid(self) -> bool:
        return self.payment is not None and self.payment.state in COUNTING_PAYMENT_STATES


class AuditEntry(Base):
    """One change of an order, a payment or a refund, with who made it."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_order_created", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
