"""The data shredder: erase an ended event's personal data and keep its books.

Payment details go through each provider's ``shred_payment_info`` (card data, payer names, IBANs,
e-mail addresses in provider data); as a separate choice, the buyers' e-mails and attendee names go
from orders and positions. Personal data copied into audit entries and refund comments is cut out
in the same step. Amounts, states, dates and attempt ids stay, so ``books verify`` still passes, and
each order's audit log gets an ``order.shredded`` entry saying who shredded what — never the data.

A shred is a job (:mod:`boxoffice.jobs`): :func:`start_shred` checks and records it, and
:func:`run_shred_job` does the work in batches, one transaction each, reporting progress; running it
again finishes an interrupted shred and changes nothing that is already shredded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice import db
from boxoffice.books import privacy, sweep
from boxoffice.books.repository import get_event, lock_orders
from boxoffice.books.rules import shred_refusal
from boxoffice.catalogue.models import Event
from boxoffice.errors import Conflict, InvalidValue
from boxoffice.jobs import service as jobs
from boxoffice.jobs.models import Job
from boxoffice.kit.clock import now
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.models import AuditEntry, Order, OrderPosition
from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.banktransfer.service import shred_bank_data
from boxoffice.providers.base import PaymentError, PaymentProvider, PaymentResult
from boxoffice.providers.registry import provider_for

log = logging.getLogger(__name__)

JOB_KIND = "books.shred"
BATCH = 500


@dataclass(frozen=True)
class ShredPlan:
    """What a shred of one event will touch (shown before it runs)."""

    event_id: int
    include_orders: bool
    orders: int
    payments: int
    refunds: int
    audit_entries: int


@dataclass
class ShredCounts:
    """What a shred changed, for the job's result (numbers and ids only — never the data)."""

    orders: int = 0
    payments: int = 0
    refunds: int = 0
    buyer_fields: int = 0
    audit_entries: int = 0
    linked_rows: int = 0
    bank_lines: int = 0
    skipped_open_refunds: list[str] = field(default_factory=list)
    providers_missing: list[str] = field(default_factory=list)

    def add(self, other: ShredCounts) -> None:
        self.orders += other.orders
        self.payments += other.payments
        self.refunds += other.refunds
        self.buyer_fields += other.buyer_fields
        self.audit_entries += other.audit_entries
        self.linked_rows += other.linked_rows
        self.bank_lines += other.bank_lines
        self.skipped_open_refunds += other.skipped_open_refunds
        self.providers_missing = sorted(set(self.providers_missing) | set(other.providers_missing))


class _UninstalledProvider(PaymentProvider):
    """Stands in for a provider that is no longer installed (or cannot load): its attempts get the
    base class's erasure, because a removed plugin must not keep personal data alive."""

    identifier = "uninstalled"
    verbose_name = "Uninstalled payment provider"

    def execute_payment(self, payment: Payment) -> PaymentResult:
        raise PaymentError("This payment method is no longer installed.")


def _open_refund_orders(session: Session, event_id: int) -> int:
    return session.execute(
        select(func.count(Order.id)).where(Order.event_id == event_id, Order.has_open_refund.is_(True))
    ).scalar_one()


def check_shred(session: Session, event: Event, *, force: bool) -> None:
    """Refuse (409) to shred an event that has not ended (unless forced) or has open refunds."""
    refusal = shred_refusal(
        date_from=event.date_from,
        date_to=event.date_to,
        now=now(),
        force=force,
        open_refunds=_open_refund_orders(session, event.id),
    )
    if refusal:
        raise Conflict(refusal, code="shred-refused", meta={"event": str(event.id)})


def shred_plan(session: Session, event_id: int, *, include_orders: bool, force: bool) -> ShredPlan:
    """Check that the event may be shredded and count what the shred will touch."""
    event = get_event(session, event_id)
    check_shred(session, event, force=force)
    of_event = select(Order.id).where(Order.event_id == event_id)

    def count(model: Any) -> int:
        return session.execute(select(func.count(model.id)).where(model.order_id.in_(of_event))).scalar_one()

    return ShredPlan(
        event_id=event_id,
        include_orders=include_orders,
        orders=session.execute(select(func.count(Order.id)).where(Order.event_id == event_id)).scalar_one(),
        payments=count(Payment),
        refunds=count(Refund),
        audit_entries=count(AuditEntry),
    )


def start_shred(
    session: Session, event_id: int, *, include_orders: bool, force: bool, actor: str, background: bool = True
) -> Job:
    """Check and record a shred of ``event_id`` as a job; with ``background`` queue it for a worker
    (sent once the caller commits), otherwise the caller runs it with :func:`run_shred_job`."""
    plan = shred_plan(session, event_id, include_orders=include_orders, force=force)
    event = get_event(session, event_id)
    job = jobs.create_job(
        session,
        JOB_KIND,
        created_by=actor,
        params={"event_id": event_id, "include_orders": include_orders, "force": force},
        organizer_id=event.organizer_id,
        event_id=event_id,
        total=plan.orders,
    )
    if background:
        from boxoffice.outbox.service import enqueue

        enqueue(session, JOB_KIND, {"job_id": job.id}, dedupe_key=f"{JOB_KIND}:{job.id}")
    return job


@dataclass
class OrderRecords:
    """One order with everything of it that may hold personal data."""

    order: Order
    payments: list[Payment]
    refunds: list[Refund]
    positions: list[OrderPosition]
    entries: list[AuditEntry]

    def known_values(self, *, include_orders: bool) -> set[str]:
        """The personal values this order holds: what its provider data keeps under personal keys,
        and — with ``include_orders`` — the buyer's e-mail and attendee names. Their copies in free
        text and audit entries are cut out with them."""
        known: set[str] = set()
        attempts: list[Payment | Refund] = [*self.payments, *self.refunds]
        for attempt in attempts:
            known |= privacy.harvest(attempt.info)
        if include_orders:
            known |= {v for v in [self.order.email, *(p.attendee_name for p in self.positions)] if v}
        return known


def load_records(session: Session, orders: Sequence[Order]) -> list[OrderRecords]:
    """The records of a batch of orders, four queries in all."""
    ids = [o.id for o in orders]

    def by_order(model: Any) -> dict[int, list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in session.execute(select(model).where(model.order_id.in_(ids)).order_by(model.id)).scalars():
            grouped[row.order_id].append(row)
        return grouped

    payments, refunds = by_order(Payment), by_order(Refund)
    positions, entries = by_order(OrderPosition), by_order(AuditEntry)
    return [OrderRecords(o, payments[o.id], refunds[o.id], positions[o.id], entries[o.id]) for o in orders]


def policy_for(include_orders: bool) -> privacy.Policy:
    return privacy.EVERYTHING if include_orders else privacy.PAYMENT_DETAILS


def _shred_attempts(
    session: Session, event: Event, attempts: Sequence[Payment | Refund], providers: dict[str, PaymentProvider]
) -> tuple[list[str], set[str]]:
    """Erase the attempts' provider data through their providers; return the ids of the attempts
    that changed and the providers that were not installed."""
    changed: list[str] = []
    missing: set[str] = set()
    for attempt in attempts:
        before = attempt.info
        provider = providers.get(attempt.provider)
        if provider is None:
            try:
                provider = provider_for(event, attempt.provider, session)
            except InvalidValue:
                log.warning("Shredding attempts of provider %s, which is not installed, by default", attempt.provider)
                provider = _UninstalledProvider(event, _UninstalledProvider.settings_model(), session)
            providers[attempt.provider] = provider
        provider.shred_payment_info(attempt)
        if isinstance(provider, _UninstalledProvider):
            missing.add(attempt.provider)
        if attempt.info != before:
            changed.append(attempt.full_id)
    return changed, missing


def _shred_buyer(order: Order, positions: Sequence[OrderPosition]) -> list[str]:
    """Empty the buyer's e-mail and the attendee names; return which fields held something."""
    fields = ["email"] if order.email else []
    order.email = None
    for position in positions:
        if position.attendee_name:
            position.attendee_name = None
            fields.append(f"attendee_name of position {position.id}")
    return fields


def known_values(
    session: Session, batch: Sequence[OrderRecords], *, include_orders: bool
) -> tuple[dict[int, set[str]], list[sweep.LinkedRow]]:
    """Per order of a batch, every personal value it holds — in its own rows and in other tables'
    rows linked to it (returned too, to be scrubbed) — so that every copy of each can be cut out."""
    owners = {
        "orders": {r.order.id: r.order.id for r in batch},
        "payments": {p.id: r.order.id for r in batch for p in r.payments},
        "refunds": {f.id: r.order.id for r in batch for f in r.refunds},
    }
    copies = sweep.linked_rows(session, owners)
    known = {r.order.id: r.known_values(include_orders=include_orders) for r in batch}
    for order_id, values in sweep.harvest(copies, policy_for(include_orders)).items():
        known[order_id] |= values
    return known, copies


def _shred_one(
    session: Session,
    event: Event,
    records: OrderRecords,
    known: set[str],
    *,
    include_orders: bool,
    providers: dict[str, PaymentProvider],
    counts: ShredCounts,
) -> dict[str, Any]:
    """Shred one order's own rows; return what was shredded (ids and field names, for the audit log)."""
    policy = policy_for(include_orders)
    shredded: dict[str, Any] = {}
    for label, attempts in (("payments", records.payments), ("refunds", records.refunds)):
        changed, missing = _shred_attempts(session, event, attempts, providers)
        counts.providers_missing = sorted(set(counts.providers_missing) | missing)
        if changed:
            shredded[label] = changed
    counts.payments += len(shredded.get("payments", []))
    counts.refunds += len(shredded.get("refunds", []))
    if include_orders and (fields := _shred_buyer(records.order, records.positions)):
        shredded["fields"] = fields
        counts.buyer_fields += len(fields)
    comments = []
    for refund in records.refunds:
        if refund.comment and (cleaned := privacy.cut(refund.comment, known, policy)) != refund.comment:
            refund.comment = cleaned
            comments.append(refund.full_id)
    if comments:
        shredded["refund_comments"] = comments
    scrubbed = 0
    for entry in records.entries:
        if (cleaned_data := privacy.scrub(entry.data or {}, known, policy)) != entry.data:
            entry.data = cleaned_data
            scrubbed += 1
    if scrubbed:
        shredded["audit_entries"] = scrubbed
        counts.audit_entries += scrubbed
    return shredded


def shred_orders(
    session: Session, event: Event, order_ids: Sequence[int], *, include_orders: bool, actor: str
) -> ShredCounts:
    """Shred one batch of the event's orders in the caller's transaction (rows locked, in id order).

    Orders with open refunds are skipped: returning that money may still need the payment details.
    """
    counts = ShredCounts()
    providers: dict[str, PaymentProvider] = {}
    batch = []
    for records in load_records(session, [o for o in lock_orders(session, order_ids) if o.event_id == event.id]):
        if records.order.has_open_refund:
            counts.skipped_open_refunds.append(records.order.code)
        else:
            batch.append(records)
    # Known values first: the providers' erasure below removes the data they are harvested from.
    known, copies = known_values(session, batch, include_orders=include_orders)
    linked = sweep.apply_changes(session, list(sweep.find_changes(copies, known, policy_for(include_orders))))
    for records in batch:
        order = records.order
        shredded = _shred_one(
            session,
            event,
            records,
            known[order.id],
            include_orders=include_orders,
            providers=providers,
            counts=counts,
        )
        if order.id in linked:
            shredded["linked_rows"] = linked[order.id]
            counts.linked_rows += sum(linked[order.id].values())
        if shredded:
            counts.orders += 1
            scope = "payment details and buyer data" if include_orders else "payment details"
            audit.record(session, order, actor, Action.ORDER_SHREDDED, scope=scope, **shredded)
    return counts


Progress = Callable[[int, int], None]


def run_shred_job(
    job_id: int, *, url: str | None = None, batch_size: int = BATCH, progress: Progress | None = None
) -> Job:
    """Do the work of a shred job, one transaction per batch of orders, reporting progress.

    ``progress(done, total)`` is called after each batch (the CLI's progress bar). The checks run
    again first: time or open refunds may have changed since the job was queued. A failure is
    recorded on the job and raised; running the job again (the outbox retries) resumes it.
    """
    try:
        with db.unit_of_work(url) as session:
            job = jobs.get_job(session, job_id)
            if job.state == "done":
                return job
            params, actor = dict(job.params), job.created_by
            event = get_event(session, int(params["event_id"]))
            check_shred(session, event, force=bool(params.get("force")))
            total = session.execute(select(func.count(Order.id)).where(Order.event_id == event.id)).scalar_one()
            jobs.report_progress(session, job_id, progress=0, total=total)
        counts, done, last_id = ShredCounts(), 0, 0
        while True:
            with db.unit_of_work(url) as session:
                event = get_event(session, int(params["event_id"]))
                ids = list(
                    session.execute(
                        select(Order.id)
                        .where(Order.event_id == event.id, Order.id > last_id)
                        .order_by(Order.id)
                        .limit(batch_size)
                    ).scalars()
                )
                if not ids:
                    break
                counts.add(
                    shred_orders(session, event, ids, include_orders=bool(params["include_orders"]), actor=actor)
                )
                done, last_id = done + len(ids), ids[-1]
                jobs.report_progress(session, job_id, progress=min(done, total), result=asdict(counts))
            if progress is not None:
                progress(done, total)
        with db.unit_of_work(url) as session:
            # Statement lines belong to the event, not to an order: payer names and IBANs of
            # transfers (matched or not) go in one step at the end.
            counts.bank_lines = shred_bank_data(session, int(params["event_id"]))
            return jobs.finish_job(session, job_id, result=asdict(counts))
    except Exception as exc:
        with db.unit_of_work(url) as session:
            jobs.finish_job(session, job_id, result={}, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
