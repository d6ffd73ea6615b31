"""The order's audit log: every change of an order, payment or refund, with who made it.

Each entry names an :class:`Action`. What a change causes besides its entry — an e-mail, an outgoing
webhook, a refund — is not decided here: :mod:`boxoffice.reactions` maps each action to its
reactions in one table the type checker sees, and :func:`record` runs them in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.accounts.auth import BUYER, SYSTEM
from boxoffice.kit.money import format_amount
from boxoffice.orders.actions import Action
from boxoffice.orders.models import AuditEntry, Order

__all__ = ["BUYER", "SYSTEM", "Action", "Reaction", "ReactionTable", "record"]


Reaction = Callable[[Session, Order, Action, dict[str, Any]], None]
"""``fn(session, order, action, data)``: a side effect of an entry, queued in the caller's transaction."""

ReactionTable = Mapping[Action, tuple[Reaction, ...]]


def _reactions() -> ReactionTable:
    # The wiring sits above every domain (it names mail, webhooks and orders reactions), so it is
    # loaded on first use, like the model registry in ``db``; Python caches the module after that.
    from boxoffice.reactions import REACTIONS

    return REACTIONS


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


def record(session: Session, order: Order, actor: str, action: Action, **data: Any) -> AuditEntry:
    """Append one entry to ``order``'s audit log (in the caller's transaction) and run its reactions.

    Reactions queue their side effects in the same transaction, so they happen exactly when the
    change commits; an error in one fails the change rather than losing the side effect. ``action``
    must be an :class:`Action` (its string value is accepted; an unknown one raises ``ValueError``).
    """
    action = Action(action)
    entry = AuditEntry(order_id=order.id, actor=actor, action=action.value, data=_plain(data, order.currency))
    session.add(entry)
    for reaction in _reactions().get(action, ()):
        reaction(session, order, action, entry.data)
    return entry
