"""Who may see and change what, and loading resources so that tenants never see each other.

The rules, in the order they are checked:

1. No credentials: 401 (except placing an order and logging in, which anyone may do).
2. A resource of an organizer the caller is not a team member of is **404**, exactly as if it did not
   exist — answering 403 would tell a stranger that an order or event with that id exists. A buyer
   token counts as a team member of nobody; it sees its own order (and the order's positions,
   payments and refunds) and nothing else.
3. Visible, but not allowed: 403 — a buyer acting on its order as only the organizer may, or staff
   doing what only admins may.

Team roles: **staff** read everything of their organizer and take money in (record and confirm
payments, mark orders paid, extend and reactivate them, charge); **admins** also give money back
(refunds, cancellations) and change the catalogue.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from boxoffice.accounts.auth import Principal
from boxoffice.api.context import Tx
from boxoffice.catalogue.models import Event, Organizer, Product, Quota
from boxoffice.errors import NotFound, PermissionDenied
from boxoffice.jobs.models import Job
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.orders.repository import lock_order
from boxoffice.payments.models import Payment, Refund

AttemptT = TypeVar("AttemptT", Payment, Refund)

ADMIN = "admin"


def check(
    principal: Principal,
    organizer_id: int,
    missing: NotFound,
    *,
    order_id: int | None = None,
    buyer: bool = False,
    admin: bool = False,
) -> None:
    """Allow the organizer's team (only admins with ``admin``) and, with ``buyer``, the buyer of
    ``order_id``; raise ``missing`` (404) for everyone who may not know the resource exists."""
    role = principal.role_in(organizer_id)
    if role is not None:
        if admin and role != ADMIN:
            raise PermissionDenied("Only the organizer's admins may do this.")
        return
    if order_id is not None and principal.order_id == order_id:
        if buyer:
            return
        raise PermissionDenied("Only the organizer's team may do this; a buyer token reads and pays its order.")
    raise missing


def organizer_ids(principal: Principal) -> list[int]:
    """The organizers whose collections the caller may list; 403 for a buyer token."""
    if principal.kind == "buyer":
        raise PermissionDenied("A buyer token grants one order; collections are for the organizer's team.")
    return sorted(principal.roles)


def _missing(kind: str, resource_id: int, pointer: str | None = None) -> NotFound:
    """404 for ``resource_id``: named by the path's ``id``, or by ``pointer`` when a document named it."""
    if pointer is not None:
        return NotFound(f"{kind} {resource_id} does not exist.", pointer=pointer)
    return NotFound(f"{kind} {resource_id} does not exist.", parameter="id")


def order(tx: Tx, order_id: int, *, buyer: bool = False, admin: bool = False, lock: bool = False) -> Order:
    """The order ``order_id`` if the caller may act on it (see the module's rules). With ``lock`` its
    row is locked for the transaction (with its event, organizer and fees, one query), so the use
    case that follows finds it locked and reads it no more."""
    missing = _missing("Order", order_id)
    found: Order | None
    if lock:  # 404 for an order that is not there, as below
        found = lock_order(tx.session, order_id, with_fees=True)
    else:
        found = tx.session.execute(
            select(Order).options(joinedload(Order.event)).where(Order.id == order_id)
        ).scalar_one_or_none()
    if found is None:
        raise missing
    check(tx.principal, found.event.organizer_id, missing, order_id=found.id, buyer=buyer, admin=admin)
    return found


def _attempt(tx: Tx, model: type[AttemptT], kind: str, attempt_id: int, *, buyer: bool, admin: bool) -> AttemptT:
    """A payment or refund, with its order and event loaded, if the caller may act on it."""
    found = tx.session.execute(
        select(model).options(joinedload(model.order).joinedload(Order.event)).where(model.id == attempt_id)
    ).scalar_one_or_none()
    missing = _missing(kind, attempt_id)
    if found is None:
        raise missing
    check(tx.principal, found.order.event.organizer_id, missing, order_id=found.order_id, buyer=buyer, admin=admin)
    return found


def payment(tx: Tx, payment_id: int, *, buyer: bool = False, admin: bool = False) -> Payment:
    return _attempt(tx, Payment, "Payment", payment_id, buyer=buyer, admin=admin)


def refund(tx: Tx, refund_id: int, *, buyer: bool = False, admin: bool = False) -> Refund:
    return _attempt(tx, Refund, "Refund", refund_id, buyer=buyer, admin=admin)


def position(tx: Tx, position_id: int) -> OrderPosition:
    found = tx.session.execute(
        select(OrderPosition)
        .options(joinedload(OrderPosition.order).joinedload(Order.event))
        .where(OrderPosition.id == position_id)
    ).scalar_one_or_none()
    missing = _missing("Order position", position_id)
    if found is None:
        raise missing
    check(tx.principal, found.order.event.organizer_id, missing, order_id=found.order_id, buyer=True)
    return found


def organizer(tx: Tx, organizer_id: int, *, admin: bool = False, pointer: str | None = None) -> Organizer:
    found = tx.session.get(Organizer, organizer_id)
    missing = _missing("Organizer", organizer_id, pointer)
    if found is None:
        raise missing
    check(tx.principal, found.id, missing, admin=admin)
    return found


def event(tx: Tx, event_id: int, *, admin: bool = False, pointer: str | None = None) -> Event:
    found = tx.session.get(Event, event_id)
    missing = _missing("Event", event_id, pointer)
    if found is None:
        raise missing
    check(tx.principal, found.organizer_id, missing, admin=admin)
    return found


def product(tx: Tx, product_id: int, *, admin: bool = False) -> tuple[Product, Event]:
    found = tx.session.get(Product, product_id)
    missing = _missing("Product", product_id)
    if found is None:
        raise missing
    owner = tx.session.get(Event, found.event_id)
    assert owner is not None  # a foreign key
    check(tx.principal, owner.organizer_id, missing, admin=admin)
    return found, owner


def quota(tx: Tx, quota_id: int, *, admin: bool = False) -> tuple[Quota, Event]:
    found = tx.session.get(Quota, quota_id)
    missing = _missing("Quota", quota_id)
    if found is None:
        raise missing
    owner = tx.session.get(Event, found.event_id)
    assert owner is not None  # a foreign key
    check(tx.principal, owner.organizer_id, missing, admin=admin)
    return found, owner


def job(tx: Tx, job_id: int) -> Job:
    found = tx.session.get(Job, job_id)
    missing = _missing("Job", job_id)
    if found is None or found.organizer_id is None:
        raise missing
    check(tx.principal, found.organizer_id, missing)
    return found
