"""The order's audit log: every change of an order, payment or refund, with who made it."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.kit.money import format_amount
from boxoffice.orders.models import AuditEntry, Order

SYSTEM = "system"
BUYER = "buyer"

AuditListener = Callable[[Session, Order, str, dict[str, Any]], None]
"""``fn(session, order, action, data)``: called by :func:`record` in the caller's transaction."""

# Modules that turn audit entries into side effects (mails, outgoing webhooks, late-payment policy).
# Imported on the first ``record`` so every process — web, worker, CLI — has their listeners.
LISTENER_MODULES: tuple[str, ...] = (
    "boxoffice.mail.listeners",
    "boxoffice.webhooks.listeners",
    "boxoffice.orders.expiry",
)

_listeners: list[AuditListener] = []
_listeners_loaded = False
_listeners_lock = threading.Lock()


def add_listener(listener: AuditListener) -> AuditListener:
    """Register ``listener`` for every audit entry (usable as a decorator); registering twice is a no-op."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def _active_listeners() -> list[AuditListener]:
    global _listeners_loaded
    if not _listeners_loaded:
        with _listeners_lock:
            if not _listeners_loaded:
                for module in LISTENER_MODULES:
                    importlib.import_module(module)
                _listeners_loaded = True
    return _listeners


def _plain(value: Any, currency: str) -> Any:
    if isinstance(value, Decimal):
        # Amounts are written as the API writes them ("49.00", "1500" for JPY), not as stored.
        return format_amount(value, currency)
    if isinstance(value, dict):
        return {k: _plain(v, currency) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, currency) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record(session: Session, order: Order, actor: str, action: str, **data: Any) -> AuditEntry:
    """Append one entry to ``order``'s audit log (in the caller's transaction) and tell the listeners.

    Listeners queue their side effects in the same transaction, so they happen exactly when the
    change commits; an error in one fails the change rather than losing the side effect.
    """
    entry = AuditEntry(order_id=order.id, actor=actor, action=action, data=_plain(data, order.currency))
    session.add(entry)
    for listener in _active_listeners():
        listener(session, order, action, entry.data)
    return entry
