"""The janitor (Kill Bill's idea): settle payments and refunds that stayed open because nobody told us.

An attempt whose provider call timed out, or whose callback never came, stays ``created``,
``pending`` or ``transit``. On the schedule of :mod:`boxoffice.payments.janitor_rules` the janitor
asks the provider (``fetch_payment_status`` / ``fetch_refund_status``) and moves the attempt through
the normal service transitions (:mod:`boxoffice.providers.reconcile`, as webhooks do); what is still unknown after the schedule is surfaced to the
organizer (:func:`unresolved_attempts`, an audit entry and one e-mail). Providers that cannot be
asked (they keep the hooks' default) are left alone: their open attempts wait for the buyer.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from boxoffice.catalogue.models import Event
from boxoffice.db import unit_of_work
from boxoffice.errors import NotFound
from boxoffice.kit.clock import now
from boxoffice.mail.rules import unresolved_attempt
from boxoffice.mail.service import queue_for_order
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.repository import lock_order
from boxoffice.outbox.tasks import Task
from boxoffice.payments.janitor_rules import (
    FIRST_CHECK_AFTER,
    PAYMENT_STATES_TO_CHECK,
    REFUND_STATES_TO_CHECK,
    STOP_CHECKING_AFTER,
    UNRESOLVED_AFTER,
    is_unresolved,
    next_check,
)
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import lock_payment, lock_refund, order_id_of_payment, order_id_of_refund
from boxoffice.providers import reconcile, registry
from boxoffice.providers.base import PaymentProvider, RemoteStatus

log = logging.getLogger(__name__)

ACTOR = "system:janitor"
BATCH = 200

Attempt = Payment | Refund


@dataclass(frozen=True)
class _Kind:
    """What differs between checking a payment and checking a refund."""

    name: str
    model: Any  # Payment or Refund (their columns are alike; a union of the two types is not)
    states: frozenset[str]
    hook: str
    order_id_of: Callable[[Session, int], int]
    lock: Callable[[Session, int], Any]
    # Moves the attempt as the provider's answer says, through the payment services.
    apply: Callable[..., StrEnum | None]
    # The audit entry that tells the organizer the janitor could not settle it.
    unresolved: Action


PAYMENT = _Kind(
    "payment",
    Payment,
    frozenset(PAYMENT_STATES_TO_CHECK),
    "fetch_payment_status",
    order_id_of_payment,
    lock_payment,
    reconcile.apply_payment_status,
    Action.PAYMENT_UNRESOLVED,
)
REFUND = _Kind(
    "refund",
    Refund,
    frozenset(REFUND_STATES_TO_CHECK),
    "fetch_refund_status",
    order_id_of_refund,
    lock_refund,
    reconcile.apply_refund_status,
    Action.REFUND_UNRESOLVED,
)


@dataclass(frozen=True)
class Checked:
    """The outcome of asking about one attempt: what the provider said and what the janitor did."""

    kind: str
    full_id: str
    remote: str
    outcome: str  # the move made (confirm, fail, done…), "wait" (no news), or "settled" (settled meanwhile)


def askable_providers(kind: _Kind) -> list[str]:
    """Identifiers of the installed providers that implement ``kind``'s status hook."""
    default = getattr(PaymentProvider, kind.hook)
    return [ident for ident, cls in registry.provider_classes().items() if getattr(cls, kind.hook) is not default]


def _ask(provider: PaymentProvider, kind: _Kind, attempt: Attempt) -> RemoteStatus:
    try:
        status: RemoteStatus = getattr(provider, kind.hook)(attempt)
    except Exception as exc:  # a provider outage is an unknown answer, not a janitor crash
        log.warning("%s %s: asking %s failed: %r", kind.name, attempt.full_id, attempt.provider, exc)
        return RemoteStatus("unknown", message=str(exc))
    return status


def _settle(
    session: Session, kind: _Kind, attempt_id: int, remote: RemoteStatus, *, actor: str, reschedule: bool
) -> str:
    """Apply the provider's answer to the attempt (order locked first, then the attempt)."""
    order = lock_order(session, kind.order_id_of(session, attempt_id))
    attempt = kind.lock(session, attempt_id)
    if attempt.state not in kind.states:
        return "settled"
    move = kind.apply(session, attempt_id, remote, actor=actor)
    outcome = move.value if move is not None else "wait"
    attempt = kind.lock(session, attempt_id)
    if attempt.state not in kind.states:
        attempt.next_check_at = None
        return outcome
    moment = now()
    if reschedule:
        attempt.next_check_at = next_check(attempt.created_at, moment)
    if is_unresolved(attempt.created_at, moment):
        _surface(session, order, kind, attempt, remote, actor)
    return outcome


def _surface(session: Session, order: Order, kind: _Kind, attempt: Attempt, remote: RemoteStatus, actor: str) -> None:
    """Tell the organizer once: an audit entry on the order and one e-mail to its admins."""
    action = kind.unresolved
    earlier = session.execute(
        select(AuditEntry.data).where(AuditEntry.order_id == order.id, AuditEntry.action == action)
    ).scalars()
    if any(data.get(kind.name) == attempt.full_id for data in earlier):
        return
    audit.record(
        session, order, actor, action, **{kind.name: attempt.full_id}, state=attempt.state, remote=remote.message
    )
    queue_for_order(session, order, unresolved_attempt(kind.name, attempt.full_id))


def _due_ids(session: Session, kind: _Kind, moment: datetime) -> list[int]:
    model = kind.model
    providers = askable_providers(kind)
    if not providers:
        return []
    return list(
        session.execute(
            select(model.id)
            .where(
                model.state.in_(list(kind.states)),
                model.provider.in_(providers),
                model.created_at > moment - STOP_CHECKING_AFTER,
                or_(
                    model.next_check_at <= moment,
                    and_(model.next_check_at.is_(None), model.created_at <= moment - FIRST_CHECK_AFTER),
                ),
            )
            .order_by(model.id)
            .limit(BATCH)
        ).scalars()
    )


def _check_scheduled(kind: _Kind, attempt_id: int) -> str:
    with unit_of_work() as session:
        attempt: Attempt | None = session.get(
            kind.model, attempt_id, options=[joinedload(kind.model.order).joinedload(Order.event)]
        )
        if attempt is None or attempt.state not in kind.states:
            return "settled"
        provider = registry.provider_for(attempt.order.event, attempt.provider, session)
        # No transaction stays open (and on SQLite no write lock is held) while the provider is asked.
        session.commit()
        remote = _ask(provider, kind, attempt)
        return _settle(session, kind, attempt_id, remote, actor=ACTOR, reschedule=True)


def run_janitor() -> Counter[str]:
    """Ask about every attempt that is due on the schedule; one unit of work per attempt.

    Returns how many attempts ended in each outcome (``confirm``, ``fail``, ``wait``, …).
    """
    moment = now()
    with unit_of_work() as session:
        due = [(kind, attempt_id) for kind in (PAYMENT, REFUND) for attempt_id in _due_ids(session, kind, moment)]
    outcomes: Counter[str] = Counter()
    for kind, attempt_id in due:
        try:
            outcomes[_check_scheduled(kind, attempt_id)] += 1
        except Exception:
            # One broken attempt must not keep the others waiting; it is due again next run.
            log.exception("janitor: %s %s could not be checked", kind.name, attempt_id)
            outcomes["error"] += 1
    return outcomes


def janitor_task(params: dict[str, Any]) -> None:
    outcomes = run_janitor()
    if outcomes:
        log.info("janitor: %s", dict(outcomes))


JANITOR = Task("payments.janitor", janitor_task, max_attempts=3)


def check_order(session: Session, order_id: int, actor: str) -> list[Checked]:
    """Ask now about every open payment and refund of one order (the organizer's "check" button).

    Runs in the caller's transaction, provider calls included; the schedule is left as it is.
    """
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.", parameter="id")
    results: list[Checked] = []
    for kind in (PAYMENT, REFUND):
        askable = set(askable_providers(kind))
        attempts: Sequence[Attempt] = session.execute(
            select(kind.model)
            .where(kind.model.order_id == order.id, kind.model.state.in_(list(kind.states)))
            .order_by(kind.model.local_id)
        ).scalars().all()
        for attempt in attempts:
            if attempt.provider not in askable:
                continue
            remote = _ask(registry.provider_for(order.event, attempt.provider, session), kind, attempt)
            outcome = _settle(session, kind, attempt.id, remote, actor=actor, reschedule=False)
            results.append(Checked(kind.name, attempt.full_id, remote.state, outcome))
    return results


def unresolved_attempts(session: Session, organizer_id: int) -> list[Attempt]:
    """Open payments and refunds of the organizer that the janitor could not settle (control panel)."""
    cutoff = now() - UNRESOLVED_AFTER
    found: list[Attempt] = []
    for kind in (PAYMENT, REFUND):
        model = kind.model
        rows = session.execute(
            select(model)
            .join(Order, Order.id == model.order_id)
            .join(Event, Event.id == Order.event_id)
            .where(
                Event.organizer_id == organizer_id,
                model.state.in_(list(kind.states)),
                model.provider.in_(askable_providers(kind)),
                model.created_at <= cutoff,
            )
            .order_by(model.created_at)
        ).scalars()
        found.extend(rows)
    return found
