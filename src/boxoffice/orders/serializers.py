"""JSON:API resource objects of orders, their positions and audit entries, and order documents
with their ``include``\\ d resources.

``order_resource`` gives linkage (``data``) for the to-many relationships named in ``linkage``
(those that are included, so the compound document has full linkage) and only a ``related`` link
for the others. :func:`order_load_options` tells the query what to load so building the document
costs no further queries.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from boxoffice.catalogue.serializers import event_resource
from boxoffice.kit.jsonapi import Includer, ResourceObject, rel_to_many, rel_to_one, resource_object
from boxoffice.kit.money import format_amount
from boxoffice.kit.query import Query
from boxoffice.orders.models import AuditEntry, Order, OrderPosition
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.serializers import PaymentDetails, payment_resource, refund_resource

Fields = frozenset[str] | None

ORDER_ATTRIBUTES = frozenset(
    {
        "code",
        "email",
        "status",
        "currency",
        "total",
        "amount",
        "pending-sum",
        "payment-state",
        "has-open-refund",
        "payment-mode",
        "expires-at",
        "created-at",
        "paid-at",
        "canceled-at",
        "locale",
        "test-mode",
    }
)
ORDER_FIELDS = ORDER_ATTRIBUTES | {"event", "positions", "payments", "refunds", "audit-entries"}
POSITION_FIELDS = frozenset({"price", "canceled", "attendee-name", "secret", "order", "product"})
AUDIT_ENTRY_FIELDS = frozenset({"action", "actor", "data", "created-at", "order"})
ORDER_INCLUDES = ("positions", "payments", "refunds", "event")
_TO_MANY = ("positions", "payments", "refunds")


def order_resource(order: Order, fields: Fields = None, linkage: Collection[str] = ()) -> ResourceObject:
    """An order as CONTRACT.md names it (``amount`` = ``total``, for Open Event clients)."""
    currency = order.currency
    total = format_amount(order.total, currency)
    base = f"/v1/orders/{order.id}"
    relationships = {
        "event": rel_to_one("events", order.event_id, f"/v1/events/{order.event_id}"),
        "positions": rel_to_many(
            "order-positions", _ids(order.positions) if "positions" in linkage else None, f"{base}/positions"
        ),
        "payments": rel_to_many(
            "payments", _ids(order.payments) if "payments" in linkage else None, f"{base}/payments"
        ),
        "refunds": rel_to_many("refunds", _ids(order.refunds) if "refunds" in linkage else None, f"{base}/refunds"),
        "audit_entries": rel_to_many("audit-entries", None, f"{base}/audit-entries"),
    }
    return resource_object(
        "orders",
        order.id,
        {
            "code": order.code,
            "email": order.email,
            "status": order.status,
            "currency": currency,
            "total": total,
            "amount": total,
            "pending_sum": format_amount(order.pending_sum, currency),
            "payment_state": order.payment_state,
            "has_open_refund": order.has_open_refund,
            "payment_mode": order.payment_mode,
            "expires_at": order.expires_at,
            "created_at": order.created_at,
            "paid_at": order.paid_at,
            "canceled_at": order.canceled_at,
            "locale": order.locale,
            "test_mode": order.test_mode,
        },
        relationships,
        links={"self": base},
        fields=fields,
    )


def position_resource(position: OrderPosition, currency: str, fields: Fields = None) -> ResourceObject:
    return resource_object(
        "order-positions",
        position.id,
        {
            "price": format_amount(position.price, currency),
            "canceled": position.canceled,
            "attendee_name": position.attendee_name,
            # The ticket's QR code content; only the order's buyer and its organizer's team read positions.
            "secret": position.secret,
        },
        {
            "order": rel_to_one("orders", position.order_id, f"/v1/orders/{position.order_id}"),
            "product": rel_to_one("products", position.product_id, f"/v1/products/{position.product_id}"),
        },
        links={"self": f"/v1/order-positions/{position.id}"},
        fields=fields,
    )


def audit_entry_resource(entry: AuditEntry, fields: Fields = None) -> ResourceObject:
    return resource_object(
        "audit-entries",
        entry.id,
        {"action": entry.action, "actor": entry.actor, "data": entry.data, "created_at": entry.created_at},
        {"order": rel_to_one("orders", entry.order_id, f"/v1/orders/{entry.order_id}")},
        fields=fields,
    )


def order_load_options(include: Collection[str]) -> list[LoaderOption]:
    """Loader options so the orders' included relationships come in one query each."""
    options: list[LoaderOption] = [selectinload(Order.event)]
    if "positions" in include:
        options.append(selectinload(Order.positions))
    if "payments" in include:
        options.append(selectinload(Order.payments))
    if "refunds" in include:
        options.append(selectinload(Order.refunds))
    return options


def order_data(session: Session, orders: Sequence[Order], query: Query) -> tuple[list[ResourceObject], Includer | None]:
    """The resource objects of ``orders`` and, when the query asks for them, their included resources."""
    linkage = [name for name in _TO_MANY if query.includes(name)]
    data = [order_resource(order, query.fields_for("orders"), linkage) for order in orders]
    if not query.include:
        return data, None
    includer = Includer(primary=data)
    details = PaymentDetails(session)
    for order in orders:
        currency = order.currency
        if query.includes("event") and ("events", str(order.event_id)) not in includer:
            # Built once per event: its providers' settings are validated to be shown.
            includer.add(event_resource(order.event, query.fields_for("events")))
        if query.includes("positions"):
            fields = query.fields_for("order-positions")
            includer.add_all(position_resource(p, currency, fields) for p in order.positions)
        if query.includes("payments"):
            fields = query.fields_for("payments")
            includer.add_all(payment_resource(p, details(p), fields) for p in order.payments)
        if query.includes("refunds"):
            includer.add_all(refund_resource(r, query.fields_for("refunds")) for r in order.refunds)
    return data, includer


def _ids(rows: Sequence[OrderPosition | Payment | Refund]) -> list[Any]:
    return [row.id for row in rows]
