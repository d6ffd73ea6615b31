"""Write ahead, then ask: the one way boxoffice hands money to a provider (STYLE.md rule 4).

The attempt (a payment, one or more refunds) is written and **committed** in a first unit of work;
only then is each one sent to its provider, in a unit of work of its own. Whatever the provider does
lands on a row that already exists: a crash after the money moved leaves an attempt a callback or
the janitor can still settle, never money without a row; a refusal of one refund does not undo
another's success. The units are whatever the caller uses — ``db.unit_of_work`` (sessions) or an API
call's ``call.unit`` (transactions that also record the answer for ``Idempotency-Key``)::

    results = write_ahead(
        unit_of_work,
        lambda session: [begin_payment(session, order_id, ...).id],       # 1. committed first
        lambda session, payment_id: execute_payment(session, payment_id, ...),  # 2. one unit each
    )
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TypeVar

U = TypeVar("U")  # what a unit of work yields: a Session, or an API transaction
I = TypeVar("I")  # noqa: E741 - what the first unit wrote: usually an attempt's id
R = TypeVar("R")

Unit = Callable[[], AbstractContextManager[U]]


def write_ahead(unit: Unit[U], write: Callable[[U], Sequence[I]], send: Callable[[U, I], R]) -> list[R]:
    """Run ``write`` in one unit of work and commit it; then ``send`` each item it returned, each in
    a unit of work of its own. Returns what ``send`` returned, in order (empty when nothing was written)."""
    with unit() as tx:
        written = list(write(tx))
    return send_each(unit, written, send)


def send_each(unit: Unit[U], written: Sequence[I], send: Callable[[U, I], R]) -> list[R]:
    """The second half alone, for attempts committed earlier (a bulk job, a retry): ``send`` each
    item in a unit of work of its own."""
    results = []
    for item in written:
        with unit() as tx:
            results.append(send(tx, item))
    return results
