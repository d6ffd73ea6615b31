"""Bulk cancellation of an event (or of one product's orders) as a resumable background job.

Each order is canceled together with its written refunds in one transaction (see
:mod:`boxoffice.orders.cancellation`), so a job that dies half-way and runs again skips the orders
it already canceled and only executes refunds still waiting in ``created``: nobody is refunded twice.
The report is counted from the database, not from memory, so it is right after any number of restarts.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from boxoffice.catalogue.models import Event
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, NotFound
from boxoffice.jobs import service as jobs
from boxoffice.jobs.models import Job
from boxoffice.orders.cancellation import FeeRule, cancel_and_write_refunds, execute_refunds, fee_of
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.outbox.service import enqueue
from boxoffice.outbox.tasks import Task
from boxoffice.payments.models import Refund
from boxoffice.payments.rules import RefundState

KIND = "event-cancellation"
BATCH = 100


def start_event_cancellation(
    session: Session,
    event_id: int,
    *,
    actor: str,
    fee_rule: FeeRule = FeeRule(),
    refund: bool = True,
    product_id: int | None = None,
) -> Job:
    """Record the job and queue it (sent after the caller commits)."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", parameter="id")
    params = {
        "event_id": event_id,
        "fee_abs": format(fee_rule.absolute, "f"),
        "fee_percent": format(fee_rule.percent, "f"),
        "refund": refund,
        "product_id": product_id,
    }
    job = jobs.create_job(
        session,
        KIND,
        created_by=actor,
        params=params,
        organizer_id=event.organizer_id,
        event_id=event_id,
        total=len(_orders_to_cancel(session, params)),
    )
    enqueue(session, "orders.cancel_event", {"job_id": job.id}, dedupe_key=f"job:{job.id}")
    return job


def preview_event_cancellation(
    session: Session, event_id: int, *, fee_rule: FeeRule = FeeRule(), refund: bool = True
) -> tuple[int, Decimal]:
    """How many orders a cancellation of the event cancels and how much money it gives back."""
    ids = _orders_to_cancel(session, {"event_id": event_id})
    back = Decimal(0)
    for start in range(0, len(ids), BATCH):
        orders = session.scalars(
            select(Order).where(Order.id.in_(ids[start : start + BATCH])).options(selectinload(Order.fees))
        )
        for order in orders:
            paid = order.payment_total - order.refund_total
            back += max(paid - fee_of(order, fee_rule), Decimal(0)) if refund else Decimal(0)
    return len(ids), back


def _orders_to_cancel(
    session: Session, params: dict[str, Any], after_id: int = 0, limit: int | None = None
) -> list[int]:
    query = select(Order.id).where(
        Order.event_id == params["event_id"], Order.status != "canceled", Order.id > after_id
    )
    if params.get("product_id"):
        query = query.where(
            Order.id.in_(select(OrderPosition.order_id).where(OrderPosition.product_id == params["product_id"]))
        )
    query = query.order_by(Order.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def _comment(job_id: int) -> str:
    return f"event cancellation (job {job_id})"


def run_event_cancellation(params: dict[str, Any]) -> None:
    """Cancel the job's orders batch by batch, then execute their waiting refunds."""
    job_id = int(params["job_id"])
    with unit_of_work() as session:
        job = jobs.get_job(session, job_id)
        if job.state == "done":
            return
        settings, actor = dict(job.params), job.created_by
    fee_rule = FeeRule(Decimal(settings["fee_abs"]), Decimal(settings["fee_percent"]))
    failures: list[dict[str, str]] = []
    last_id = 0
    while True:
        with unit_of_work() as session:
            batch = _orders_to_cancel(session, settings, after_id=last_id, limit=BATCH)
        if not batch:
            break
        for order_id in batch:
            try:
                with unit_of_work() as session:
                    cancel_and_write_refunds(
                        session,
                        order_id,
                        actor=actor,
                        fee_rule=fee_rule,
                        refund=bool(settings["refund"]),
                        comment=_comment(job_id),
                    )
            except DomainError as exc:
                failures.append({"order": str(order_id), "reason": exc.detail})
        last_id = batch[-1]
        _execute_waiting(job_id, actor)
        with unit_of_work() as session:
            jobs.report_progress(session, job_id, progress=_canceled_count(session, job_id, settings))
    _execute_waiting(job_id, actor)
    with unit_of_work() as session:
        jobs.finish_job(session, job_id, result=report(session, job_id, failures))


CANCEL_EVENT = Task("orders.cancel_event", run_event_cancellation)


def _execute_waiting(job_id: int, actor: str) -> None:
    with unit_of_work() as session:
        waiting = list(
            session.scalars(
                select(Refund.id).where(Refund.comment == _comment(job_id), Refund.state == RefundState.CREATED)
            )
        )
    execute_refunds(waiting, actor=actor)


def _canceled_count(session: Session, job_id: int, params: dict[str, Any]) -> int:
    from sqlalchemy import func

    from boxoffice.orders.models import AuditEntry

    return (
        session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "order.canceled", AuditEntry.data["comment"].as_string() == _comment(job_id)
            )
        )
        or 0
    )


def report(session: Session, job_id: int, failures: list[dict[str, str]]) -> dict[str, Any]:
    """Refunded automatically, manual refunds waiting, failures — counted from the database."""
    states = Counter(session.scalars(select(Refund.state).where(Refund.comment == _comment(job_id))))
    job = jobs.get_job(session, job_id)
    return {
        "canceled": _canceled_count(session, job_id, job.params),
        "refunded-automatically": states[RefundState.DONE] + states[RefundState.TRANSIT],
        "manual-refunds-waiting": states[RefundState.CREATED],
        "refunds-failed": states[RefundState.FAILED],
        "failures": failures,
    }
