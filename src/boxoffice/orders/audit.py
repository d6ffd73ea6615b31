"""The order's audit log: every change of an order, payment or refund, with who made it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.orders.models import AuditEntry, Order

SYSTEM = "system"
BUYER = "buyer"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record(session: Session, order: Order, actor: str, action: str, **data: Any) -> AuditEntry:
    """Append one entry to ``order``'s audit log (in the caller's transaction)."""
    entry = AuditEntry(order_id=order.id, actor=actor, action=action, data=_plain(data))
    session.add(entry)
    return entry
