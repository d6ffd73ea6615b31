"""Queries and row locks of bank transfers: statement lines, imports, and the orders they pay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from boxoffice.db import dialect_insert
from boxoffice.errors import NotFound
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import RefundState
from boxoffice.providers.banktransfer.models import BankImport, BankTransaction
from boxoffice.providers.banktransfer.rules import BANK_REFUND_PROVIDERS, IDENTIFIER, Attempt


def get_import(session: Session, import_id: int) -> BankImport:
    found = session.get(BankImport, import_id)
    if found is None:
        raise NotFound(f"Bank import {import_id} does not exist.", parameter="id")
    return found


def get_transaction(session: Session, transaction_id: int) -> BankTransaction:
    found = session.get(BankTransaction, transaction_id)
    if found is None:
        raise NotFound(f"Bank transaction {transaction_id} does not exist.", parameter="id")
    return found


def lock_transaction(session: Session, transaction_id: int) -> BankTransaction:
    """The statement line with its row locked, so two organizers cannot assign it twice."""
    found = session.execute(
        select(BankTransaction)
        .where(BankTransaction.id == transaction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"Bank transaction {transaction_id} does not exist.", parameter="id")
    return found


def insert_transaction(session: Session, values: Mapping[str, Any]) -> BankTransaction | None:
    """Store one statement line and return it, or None when the event has it already (same
    checksum or same booking key).

    ``INSERT … ON CONFLICT DO NOTHING`` on every unique constraint: an import racing another one
    with the same lines waits for it and then skips them — the database keeps each line once.
    """
    statement = dialect_insert(session, BankTransaction).values(**values).on_conflict_do_nothing()
    return session.scalars(statement.returning(BankTransaction)).one_or_none()


def transaction_by_checksum(session: Session, event_id: int, checksum: str) -> BankTransaction | None:
    return session.execute(
        select(BankTransaction).where(BankTransaction.event_id == event_id, BankTransaction.checksum == checksum)
    ).scalar_one_or_none()


def transaction_by_booking_key(session: Session, event_id: int, key: str) -> BankTransaction | None:
    return session.execute(
        select(BankTransaction).where(BankTransaction.event_id == event_id, BankTransaction.booking_key == key)
    ).scalar_one_or_none()


def order_by_code(session: Session, event_id: int, code: str) -> Order | None:
    return session.execute(select(Order).where(Order.event_id == event_id, Order.code == code)).scalar_one_or_none()


def issued_reference(session: Session, order_id: int) -> str | None:
    """The transfer reference the order's first bank transfer attempt gave the buyer, if any."""
    return session.execute(
        select(Payment.provider_reference)
        .where(Payment.order_id == order_id, Payment.provider == IDENTIFIER, Payment.provider_reference.is_not(None))
        .order_by(Payment.local_id)
        .limit(1)
    ).scalar_one_or_none()


def references_not_starting_with(session: Session, event_id: int, prefix: str) -> list[str]:
    """References issued for the event under another prefix (the event's slug or prefix changed
    since); usually none, so this costs one index scan."""
    found = session.execute(
        select(Payment.provider_reference)
        .join(Order, Payment.order_id == Order.id)
        .where(
            Order.event_id == event_id,
            Payment.provider == IDENTIFIER,
            Payment.provider_reference.is_not(None),
            Payment.provider_reference.not_like(f"{prefix}-%"),
        )
        .distinct()
    ).scalars()
    return [reference for reference in found if reference]


def open_bank_refunds(session: Session, order_id: int) -> list[tuple[int, Decimal]]:
    """``(id, amount)`` of the order's refunds still waiting to be paid from the bank account."""
    rows = session.execute(
        select(Refund.id, Refund.amount)
        .where(
            Refund.order_id == order_id,
            Refund.state.in_([RefundState.CREATED, RefundState.TRANSIT]),
            Refund.provider.in_(sorted(BANK_REFUND_PROVIDERS)),
        )
        .order_by(Refund.id)
    ).all()
    return [(refund_id, amount) for refund_id, amount in rows]


def bank_attempts(session: Session, order_id: int) -> list[Attempt]:
    """The order's bank transfer payment attempts."""
    rows = session.execute(
        select(Payment.id, Payment.state, Payment.local_id).where(
            Payment.order_id == order_id, Payment.provider == IDENTIFIER
        )
    ).all()
    return [Attempt(payment_id, state, local_id) for payment_id, state, local_id in rows]


def refunds_to_export(session: Session, event_id: int) -> list[Refund]:
    """The event's bank transfer refunds that wait for their money to be sent (state ``created``)."""
    return list(
        session.execute(
            select(Refund)
            .join(Order, Refund.order_id == Order.id)
            .where(Order.event_id == event_id, Refund.provider == IDENTIFIER, Refund.state == RefundState.CREATED)
            .order_by(Refund.id)
        ).scalars()
    )


def refunds_of_batch(session: Session, event_id: int, batch: str) -> list[Refund]:
    """The refunds an earlier export put into the file ``batch`` (its message id)."""
    return list(
        session.execute(
            select(Refund)
            .join(Order, Refund.order_id == Order.id)
            .where(Order.event_id == event_id, Refund.provider == IDENTIFIER, Refund.provider_reference == batch)
            .order_by(Refund.id)
        ).scalars()
    )


def imports_query(event_id: int) -> Select[BankImport]:
    """The event's statement imports, newest first."""
    return select(BankImport).where(BankImport.event_id == event_id).order_by(BankImport.id.desc())


def transactions_query(
    event_id: int, *, states: Sequence[str] = (), import_id: int | None = None
) -> Select[BankTransaction]:
    """The event's statement lines in booking order, optionally only some states or one import."""
    query = select(BankTransaction).where(BankTransaction.event_id == event_id)
    if states:
        query = query.where(BankTransaction.state.in_(list(states)))
    if import_id is not None:
        query = query.where(BankTransaction.import_id == import_id)
    return query.order_by(BankTransaction.id)


def count(session: Session, query: Select[Any]) -> int:
    return session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()


def page(session: Session, query: Select[Any], *, offset: int, limit: int) -> list[Any]:
    return list(session.execute(query.offset(offset).limit(limit)).scalars())
