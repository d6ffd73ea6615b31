"""Tables of the books: the per-day money rollup the control panel's chart reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Amount, Base


class MoneyOfDay(Base):
    """An event's money of one UTC day: sales placed, payments confirmed and refunds done.

    Kept up to date in the transaction that moves the money (:mod:`boxoffice.books.rollup`), so the
    dashboard reads a month in a few dozen rows instead of summing every order, payment and refund.
    Each day is split into :data:`~boxoffice.books.rollup.SLOTS` rows (by order id) so that buyers
    of one event do not all queue on one row lock; readers sum the slots.
    """

    __tablename__ = "money_by_day"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # Orders placed that day that are pending or paid now: their totals.
    sold: Mapped[Decimal] = mapped_column(Amount)
    # Payments confirmed that day (their payment_date), refunded later or not.
    paid: Mapped[Decimal] = mapped_column(Amount)
    # Refunds done that day (their execution_date).
    refunded: Mapped[Decimal] = mapped_column(Amount)
