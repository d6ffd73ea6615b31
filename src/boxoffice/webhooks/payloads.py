"""The documents sent to webhook endpoints: ``{"id", "type", "created", "data"}``, where ``data`` is the
order, payment or refund as the API shows it (its JSON:API resource object, built by the API's own
serializers, so a receiver reads the same attributes as a client of ``/v1``)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.kit.jsonapi import ResourceObject, format_datetime, serialize_value
from boxoffice.orders.models import Order
from boxoffice.orders.serializers import order_resource
from boxoffice.payments.lookup import payment_by_full_id, refund_by_full_id
from boxoffice.payments.serializers import PaymentDetails, payment_resource, refund_resource


def new_event_id() -> str:
    """The id receivers deduplicate by; every endpoint receiving the same event gets the same id."""
    return "evt_" + secrets.token_hex(16)


def resource_of(
    session: Session, order: Order, event_type: str, *, payment: str | None, refund: str | None
) -> ResourceObject | None:
    """The resource an event is about: the payment or refund it names, else the order."""
    kind = event_type.split(".", 1)[0]
    if kind == "payment" and payment:
        found = payment_by_full_id(session, order.id, payment)
        return payment_resource(found, PaymentDetails(session)(found)) if found else None
    if kind == "refund" and refund:
        refund_row = refund_by_full_id(session, order.id, refund)
        return refund_resource(refund_row) if refund_row else None
    return order_resource(order)


def event_document(event_id: str, event_type: str, created: datetime, data: ResourceObject) -> dict[str, Any]:
    """The whole body of a delivery, as plain JSON values (ready to store and to send)."""
    document = {"id": event_id, "type": event_type, "created": format_datetime(created), "data": data}
    plain: dict[str, Any] = json.loads(json.dumps(document, default=serialize_value))
    return plain


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
