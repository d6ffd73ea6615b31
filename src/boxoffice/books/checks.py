"""The invariants ``books verify`` checks, one function each, all scoped to a set of orders.

Each check reads in batches or streams, so it runs on a million orders in a small memory budget,
and yields a :class:`Drift` for every place where the stored books disagree with first principles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from boxoffice.books import exports
from boxoffice.books import rules as books_rules
from boxoffice.books.writers import text_formats
from boxoffice.catalogue.models import Event, Organizer, Quota, product_quotas
from boxoffice.kit.money import ZERO, format_amount
from boxoffice.orders.models import AuditEntry, Order, OrderFee, OrderPosition
from boxoffice.orders.rules import OrderStatus
from boxoffice.payments import rules
from boxoffice.payments.models import Payment, Refund

BATCH = 2000


@dataclass(frozen=True)
class Drift:
    """One disagreement: what is stored, and what first principles say it should be."""

    subject: str
    field: str
    stored: str
    expected: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.field} is {self.stored}, expected {self.expected}"


@dataclass
class Tally:
    """How many things a check looked at (so a report can tell "none found" from "none checked")."""

    checked: int = 0


@dataclass(frozen=True)
class Scope:
    """Which part of the books to check: everything, one organizer's events, or one event."""

    organizer_id: int | None = None
    event_id: int | None = None

    def events(self) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = [true()]
        if self.organizer_id is not None:
            conditions.append(Event.organizer_id == self.organizer_id)
        if self.event_id is not None:
            conditions.append(Event.id == self.event_id)
        return and_(*conditions)

    def orders(self) -> ColumnElement[bool]:
        if self.organizer_id is None and self.event_id is None:
            return true()
        return Order.event_id.in_(select(Event.id).where(self.events()))


def _order_batches(session: Session, scope: Scope) -> Iterator[list[Order]]:
    last_id = 0
    while True:
        batch = (
            session.execute(select(Order).where(scope.orders(), Order.id > last_id).order_by(Order.id).limit(BATCH))
            .scalars()
            .all()
        )
        if not batch:
            return
        yield list(batch)
        last_id = batch[-1].id
        # Forget the batch (only it: the caller's session may hold objects of its own) to stay flat.
        for order in batch:
            session.expunge(order)


def _sums(
    session: Session, model: type[Payment] | type[Refund], ids: list[int]
) -> dict[int, list[tuple[str, Decimal]]]:
    rows = session.execute(
        select(model.order_id, model.state, func.sum(model.amount))
        .where(model.order_id.in_(ids))
        .group_by(model.order_id, model.state)
    ).all()
    result: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for order_id, state, amount in rows:
        result[order_id].append((state, Decimal(amount)))
    return result


def _order_subject(order: Order) -> str:
    return f"order {order.code} (id {order.id})"


def _text(value: object, currency: str) -> str:
    """A stored or computed value as a drift shows it (amounts with the currency's decimals)."""
    return format_amount(value, currency) if isinstance(value, Decimal) else str(value)


def balances(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """Every order's stored balance equals the one its payments and refunds give."""
    currencies: dict[int, str] = dict(session.execute(select(Event.id, Event.currency).where(scope.events())).all())
    for orders in _order_batches(session, scope):
        ids = [o.id for o in orders]
        payments, refunds = _sums(session, Payment, ids), _sums(session, Refund, ids)
        for order in orders:
            bal = rules.balance(
                total=order.total,
                order_status=order.status,
                payments=payments.get(order.id, []),
                refunds=refunds.get(order.id, []),
            )
            for field, stored, expected in (
                ("payment_total", order.payment_total, bal.payment_total),
                ("refund_total", order.refund_total, bal.refund_total),
                ("pending_sum", order.pending_sum, bal.pending_sum),
                ("payment_state", order.payment_state, bal.payment_state.value),
                ("has_open_refund", order.has_open_refund, bal.has_open_refund),
            ):
                if stored != expected:
                    currency = currencies[order.event_id]
                    yield Drift(_order_subject(order), field, _text(stored, currency), _text(expected, currency))
        tally.checked += len(orders)


def _line_sums(session: Session, amount: Any, order_id: Any, canceled: Any, ids: list[int]) -> dict[int, Decimal]:
    rows = session.execute(
        select(order_id, func.sum(amount)).where(order_id.in_(ids), canceled.is_(False)).group_by(order_id)
    ).all()
    return {oid: Decimal(total) for oid, total in rows}


def totals(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """Every order's total equals its live positions plus its live fees."""
    currencies: dict[int, str] = dict(session.execute(select(Event.id, Event.currency).where(scope.events())).all())
    for orders in _order_batches(session, scope):
        ids = [o.id for o in orders]
        positions = _line_sums(session, OrderPosition.price, OrderPosition.order_id, OrderPosition.canceled, ids)
        fees = _line_sums(session, OrderFee.value, OrderFee.order_id, OrderFee.canceled, ids)
        for order in orders:
            items, charges = positions.get(order.id, ZERO), fees.get(order.id, ZERO)
            if order.total != items + charges:
                currency = currencies[order.event_id]
                yield Drift(
                    _order_subject(order),
                    "total",
                    _text(order.total, currency),
                    f"{_text(items + charges, currency)} (positions {_text(items, currency)} "
                    f"+ fees {_text(charges, currency)})",
                )
        tally.checked += len(orders)


def position_prices(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """Every paid order's positions are priced as its audit log last recorded them."""
    currencies: dict[int, str] = dict(session.execute(select(Event.id, Event.currency).where(scope.events())).all())
    for orders in _order_batches(session, scope):
        paid = {o.id: o for o in orders if o.status == OrderStatus.PAID}
        if not paid:
            continue
        records: dict[int, tuple[str, dict[str, Any]]] = {}
        for order_id, action, data in session.execute(
            select(AuditEntry.order_id, AuditEntry.action, AuditEntry.data)
            .where(AuditEntry.order_id.in_(list(paid)), AuditEntry.action.in_(books_rules.PRICE_RECORDS))
            .order_by(AuditEntry.id)
        ):
            records[order_id] = (action, data or {})
        live: dict[int, list[books_rules.LivePosition]] = defaultdict(list)
        for order_id, position_id, product_id, price in session.execute(
            select(OrderPosition.order_id, OrderPosition.id, OrderPosition.product_id, OrderPosition.price).where(
                OrderPosition.order_id.in_(list(paid)), OrderPosition.canceled.is_(False)
            )
        ):
            live[order_id].append((position_id, product_id, Decimal(price)))
        for order_id, order in paid.items():
            tally.checked += 1
            action, data = records.get(order_id, (None, {}))
            drift = books_rules.price_drift(action, data, live[order_id], currencies[order.event_id])
            if drift is not None:
                yield Drift(_order_subject(order), "position prices", *drift)


def quotas(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """Every quota's ``used`` equals the seats its pending and paid orders hold, within its size."""
    held: dict[int, int] = dict(
        session.execute(
            select(product_quotas.c.quota_id, func.count(OrderPosition.id))
            .join(OrderPosition, OrderPosition.product_id == product_quotas.c.product_id)
            .join(Order, Order.id == OrderPosition.order_id)
            .where(Order.holds_quota.is_(True), OrderPosition.canceled.is_(False), scope.orders())
            .group_by(product_quotas.c.quota_id)
        ).all()
    )
    in_scope = select(Event.id).where(scope.events())
    for quota in session.execute(select(Quota).where(Quota.event_id.in_(in_scope)).order_by(Quota.id)).scalars():
        tally.checked += 1
        subject = f"quota '{quota.name}' (id {quota.id})"
        expected = held.get(quota.id, 0)
        if quota.used != expected:
            yield Drift(subject, "used", str(quota.used), str(expected))
        if quota.size is not None and quota.used > quota.size:
            yield Drift(subject, "oversold", str(quota.used), f"<= {quota.size}")


def refund_limits(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """No payment gives back more than it took, and a refund only draws on a payment of its own order."""
    counting = [s.value for s in rules.COUNTING_REFUND_STATES]
    refunded = func.sum(Refund.amount)
    totals = session.execute(
        select(Order.code, Event.currency, Payment.id, Payment.local_id, Payment.amount, refunded)
        .join(Payment, Refund.payment_id == Payment.id)
        .join(Order, Payment.order_id == Order.id)
        .join(Event, Order.event_id == Event.id)
        .where(Refund.state.in_(counting), scope.orders())
        .group_by(Order.code, Event.currency, Payment.id, Payment.local_id, Payment.amount)
        .execution_options(yield_per=BATCH)
    )
    for code, currency, payment_id, local_id, amount, total in totals:
        tally.checked += 1
        if total > amount:
            yield Drift(
                f"payment {code}-P-{local_id} (id {payment_id})",
                "refunded",
                format_amount(total, currency),
                f"<= {format_amount(amount, currency)}",
            )
    strays = session.execute(
        select(Order.code, Refund.id, Refund.local_id, Payment.order_id)
        .join(Payment, Refund.payment_id == Payment.id)
        .join(Order, Refund.order_id == Order.id)
        .where(Refund.order_id != Payment.order_id, scope.orders())
    )
    for code, refund_id, local_id, payment_order in strays:
        yield Drift(
            f"refund {code}-R-{local_id} (id {refund_id})", "payment", f"of order id {payment_order}", "own order's"
        )


def refunded_payments(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """A payment is in state ``refunded`` exactly when done refunds give all of it back."""
    done = func.coalesce(func.sum(Refund.amount), ZERO)
    result = session.execute(
        select(Order.code, Event.currency, Payment.id, Payment.local_id, Payment.amount, Payment.state, done)
        .join(Order, Payment.order_id == Order.id)
        .join(Event, Order.event_id == Event.id)
        .outerjoin(Refund, and_(Refund.payment_id == Payment.id, Refund.state == rules.RefundState.DONE.value))
        .where(Payment.state.in_([s.value for s in rules.COUNTING_PAYMENT_STATES]), scope.orders())
        .group_by(Order.code, Event.currency, Payment.id, Payment.local_id, Payment.amount, Payment.state)
        .execution_options(yield_per=BATCH)
    )
    for code, currency, payment_id, local_id, amount, state, done_sum in result:
        tally.checked += 1
        fully = rules.is_fully_refunded(amount, [done_sum])
        expected = rules.PaymentState.REFUNDED if fully else rules.PaymentState.CONFIRMED
        if state != expected:
            yield Drift(
                f"payment {code}-P-{local_id} (id {payment_id})",
                "state",
                f"{state} (done refunds {format_amount(done_sum, currency)} of {format_amount(amount, currency)})",
                expected.value,
            )


def _subjects(session: Session, orders: Sequence[Order]) -> Iterator[books_rules.Subject]:
    codes = {o.id: o.code for o in orders}
    for order in orders:
        yield books_rules.Subject(order.id, "order", order.code, order.status)
    for model, kind, letter in ((Payment, "payment", "P"), (Refund, "refund", "R")):
        rows = session.execute(
            select(model.order_id, model.local_id, model.state).where(model.order_id.in_(list(codes)))
        )
        for order_id, local_id, state in rows:
            yield books_rules.Subject(order_id, kind, f"{codes[order_id]}-{letter}-{local_id}", state)


def audit_trail(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """Every order, payment and refund has the audit entries of its birth and of its current state."""
    for orders in _order_batches(session, scope):
        codes = {o.id: o.code for o in orders}
        entries = session.execute(
            select(AuditEntry.order_id, AuditEntry.action, AuditEntry.data).where(
                AuditEntry.order_id.in_(list(codes)), AuditEntry.action.in_(sorted(books_rules.AUDITED_ACTIONS))
            )
        )
        present = {
            books_rules.audit_key(action, data or {}, order_id, codes[order_id]) for order_id, action, data in entries
        }
        subjects = list(_subjects(session, orders))
        tally.checked += len(subjects)
        for missing in books_rules.missing_entries(subjects, present):
            yield Drift(
                f"{missing.subject.kind} {missing.subject.full_id}",
                "audit log",
                f"no {' or '.join(missing.actions)} entry",
                f"an entry for state {missing.subject.state}",
            )


def _exported_sums(
    session: Session, event_id: int, currency: str, kind_name: str, key: str, amounts: Sequence[str]
) -> dict[tuple[str, str], Decimal]:
    """Sums of amount columns of an export, as written (so rounding in the writer would show), by ``key``."""
    kind = exports.export_kind(kind_name)
    index = {c.name: i for i, c in enumerate(kind.columns)}
    written = text_formats(kind.columns, currency)
    sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    # Test-mode orders included: the database's sums below count every order.
    for row in exports.rows(session, event_id, kind, currency, include_test_mode=True):
        group = str(row[index[key]]) if key else "all"
        for name in amounts:
            sums[(group, name)] += Decimal(written[index[name]](row[index[name]]) or "0")
        sums[(group, "rows")] += 1
    return sums


def _books_sums(session: Session, event_id: int) -> dict[tuple[str, str], Decimal]:
    sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for label, model in (("payments", Payment), ("refunds", Refund)):
        for state, total, count in session.execute(
            select(model.state, func.sum(model.amount), func.count(model.id))
            .join(Order, model.order_id == Order.id)
            .where(Order.event_id == event_id)
            .group_by(model.state)
        ):
            sums[(f"{label} {state}", "amount")] = Decimal(total)
            sums[(f"{label} {state}", "rows")] = Decimal(count)
    order_sums = session.execute(
        select(
            func.count(Order.id),
            func.sum(Order.total),
            func.sum(Order.payment_total),
            func.sum(Order.refund_total),
            func.sum(Order.pending_sum),
        ).where(Order.event_id == event_id)
    ).one()
    count, *amounts = order_sums
    sums[("orders", "rows")] = Decimal(count)
    for name, value in zip(("total", "payment_total", "refund_total", "pending_sum"), amounts, strict=True):
        sums[("orders", name)] = value if value is not None else ZERO
    return sums


def export_totals(session: Session, scope: Scope, tally: Tally) -> Iterator[Drift]:
    """Per event and currency, the exports add up to the database's own sums (by state for attempts)."""
    events = session.execute(
        select(Event.id, Event.currency, Organizer.slug, Event.slug)
        .join(Organizer, Event.organizer_id == Organizer.id)
        .where(scope.events())
        .order_by(Event.id)
    ).all()
    for event_id, currency, organizer_slug, event_slug in events:
        tally.checked += 1
        exported: dict[tuple[str, str], Decimal] = {}
        for kind_name in ("payments", "refunds"):
            for (state, name), value in _exported_sums(
                session, event_id, currency, kind_name, "state", ["amount"]
            ).items():
                exported[(f"{kind_name} {state}", name)] = value
        for (_, name), value in _exported_sums(
            session, event_id, currency, "orders", "", ["total", "payment_total", "refund_total", "pending_sum"]
        ).items():
            exported[("orders", name)] = value
        books = _books_sums(session, event_id)
        for key in sorted(set(exported) | set(books)):
            got, want = exported.get(key, ZERO), books.get(key, ZERO)
            if got != want:
                group, name = key
                yield Drift(
                    f"event {organizer_slug}/{event_slug} ({currency})",
                    f"exported {group} {name}",
                    str(got) if name == "rows" else format_amount(got, currency),
                    f"{want if name == 'rows' else format_amount(want, currency)} (database sum)",
                )
