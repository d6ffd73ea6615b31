"""Reading back what a provider test did: payments, orders, refunds, audit entries, stored events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from boxoffice.inbox.models import ProviderEvent
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.payments.models import Payment, Refund


class ReadBack:
    """Each read is its own unit of work; the objects come back detached."""

    uow: Any

    def payment(self, payment_id: int) -> Payment:
        with self.uow() as s:
            payment = s.get(Payment, payment_id)
            assert payment is not None
            assert payment.full_id  # loads the order, for full_id after the session is gone
            s.expunge(payment)
            return payment

    def order(self, order_id: int) -> Order:
        with self.uow() as s:
            order = s.get(Order, order_id)
            assert order is not None
            s.expunge(order)
            return order

    def refunds(self, order_id: int) -> list[tuple[str, str, Decimal, str | None]]:
        """``(source, state, amount, provider reference)`` of the order's refunds, in order."""
        with self.uow() as s:
            rows = s.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.local_id))
            return [(r.source, r.state, r.amount, r.provider_reference) for r in rows]

    def actions(self, order_id: int, action: str) -> int:
        """How many audit entries ``action`` the order has."""
        with self.uow() as s:
            query = select(func.count()).where(AuditEntry.order_id == order_id, AuditEntry.action == action)
            return int(s.scalar(query) or 0)

    def events(self) -> list[tuple[str, str]]:
        """``(type, state)`` of every stored provider event, in arrival order."""
        with self.uow() as s:
            rows = s.scalars(select(ProviderEvent).order_by(ProviderEvent.id))
            return [(e.event_type, e.state) for e in rows]
