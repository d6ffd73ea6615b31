"""Use cases of outgoing webhooks. Each runs in the caller's transaction and never commits."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Organizer
from boxoffice.db import lock_row
from boxoffice.errors import Conflict, NotFound
from boxoffice.kit.clock import now
from boxoffice.orders.models import Order
from boxoffice.outbox.service import enqueue
from boxoffice.webhooks import payloads
from boxoffice.webhooks.destinations import check_registration
from boxoffice.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from boxoffice.webhooks.rules import RETRY_WINDOW, check_event_types, check_url, is_success, next_attempt_at

DELIVER_TASK = "webhooks.deliver"
SECRET_PREFIX = "whsec_"


def create_endpoint(
    session: Session,
    organizer_id: int,
    *,
    url: str,
    event_types: Sequence[str],
    enabled: bool = True,
    description: str | None = None,
) -> WebhookEndpoint:
    """Register an endpoint; its ``secret`` is generated here and shown to the organizer only now."""
    organizer = _lock_organizer(session, organizer_id)
    endpoint = WebhookEndpoint(
        organizer_id=organizer_id,
        url=_checked_url(url),
        event_types=check_event_types(event_types),
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        enabled=enabled,
        description=description,
    )
    session.add(endpoint)
    _count_enabled(session, organizer)
    return endpoint


def update_endpoint(
    session: Session, endpoint_id: int, organizer_id: int, changes: Mapping[str, Any]
) -> WebhookEndpoint:
    """Apply ``changes`` (``url``, ``event_types``, ``enabled``, ``description``: those given change)."""
    endpoint = get_endpoint(session, endpoint_id, organizer_id)
    unknown = set(changes) - {"url", "event_types", "enabled", "description"}
    if unknown:
        raise ValueError(f"webhook endpoints have no {', '.join(sorted(unknown))}")
    # Only switching an endpoint on or off changes the organizer's count of enabled ones.
    organizer = _lock_organizer(session, endpoint.organizer_id) if "enabled" in changes else None
    if "url" in changes:
        endpoint.url = _checked_url(changes["url"])
    if "event_types" in changes:
        endpoint.event_types = check_event_types(changes["event_types"])
    if "enabled" in changes:
        endpoint.enabled = bool(changes["enabled"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if organizer is not None:
        _count_enabled(session, organizer)
    return endpoint


def _lock_organizer(session: Session, organizer_id: int) -> Organizer:
    """Endpoint changes of one organizer queue on its row, so each recount sees the others' changes."""
    return lock_row(session, Organizer, organizer_id)


def _count_enabled(session: Session, organizer: Organizer) -> None:
    """Store the organizer's number of enabled endpoints (``Organizer.enabled_webhooks``), which
    tells an order's change whether to look for subscribers; the caller holds the organizer's lock."""
    session.flush()
    organizer.enabled_webhooks = session.execute(
        select(func.count(WebhookEndpoint.id)).where(
            WebhookEndpoint.organizer_id == organizer.id, WebhookEndpoint.enabled.is_(True)
        )
    ).scalar_one()


def _checked_url(url: str) -> str:
    """An absolute http(s) URL to a destination webhooks may reach; 422 (nothing stored) otherwise."""
    checked = check_url(url)
    check_registration(checked)
    return checked


def delete_endpoint(session: Session, endpoint_id: int, organizer_id: int) -> None:
    """Delete an endpoint with its delivery log; queued attempts find it gone and stop."""
    endpoint = get_endpoint(session, endpoint_id, organizer_id)
    organizer = _lock_organizer(session, endpoint.organizer_id)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    session.execute(
        delete(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(deliveries))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .execution_options(synchronize_session=False)
    )
    session.delete(endpoint)
    _count_enabled(session, organizer)


def get_endpoint(session: Session, endpoint_id: int, organizer_id: int | None = None) -> WebhookEndpoint:
    """The endpoint ``endpoint_id`` (of ``organizer_id`` when given: another organizer's is a 404)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (organizer_id is not None and endpoint.organizer_id != organizer_id):
        raise NotFound(f"Webhook endpoint {endpoint_id} does not exist.", parameter="id")
    return endpoint


def endpoints_query(organizer_id: int) -> Select[WebhookEndpoint]:
    return select(WebhookEndpoint).where(WebhookEndpoint.organizer_id == organizer_id).order_by(WebhookEndpoint.id)


def deliveries_query(endpoint_id: int) -> Select[WebhookDelivery]:
    """The delivery log of an endpoint, newest first."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
    )


def get_delivery(session: Session, delivery_id: int, organizer_id: int | None = None) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or (organizer_id is not None and delivery.endpoint.organizer_id != organizer_id):
        raise NotFound(f"Webhook delivery {delivery_id} does not exist.", parameter="id")
    return delivery


@dataclass(frozen=True)
class PendingEvent:
    """A change seen in the audit log, waiting for the end of its transaction to become deliveries."""

    order_id: int
    organizer_id: int
    event_type: str
    payment: str | None
    refund: str | None
    created: datetime


def create_deliveries(session: Session, events: Sequence[PendingEvent]) -> list[WebhookDelivery]:
    """One delivery per event and subscribed, enabled endpoint of the order's organizer, each with
    its first attempt queued. The data is the resource as the transaction leaves it."""
    created: list[WebhookDelivery] = []
    endpoints_of: dict[int, list[WebhookEndpoint]] = {}
    for event in events:
        organizer_id = event.organizer_id
        if organizer_id not in endpoints_of:
            endpoints_of[organizer_id] = list(
                session.execute(endpoints_query(organizer_id).where(WebhookEndpoint.enabled.is_(True))).scalars()
            )
        targets = [e for e in endpoints_of[organizer_id] if event.event_type in e.event_types]
        # The order is loaded only for an event someone subscribed to.
        order = session.get(Order, event.order_id) if targets else None
        if order is None:
            continue
        data = payloads.resource_of(session, order, event.event_type, payment=event.payment, refund=event.refund)
        if data is None:
            continue
        document = payloads.event_document(payloads.new_event_id(), event.event_type, event.created, data)
        for endpoint in targets:
            delivery = WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=document["id"],
                event_type=event.event_type,
                order_id=order.id,
                payload=document,
                state="pending",
                attempts=0,
                next_attempt_at=event.created,
                give_up_at=event.created + RETRY_WINDOW,
                created_at=event.created,
            )
            session.add(delivery)
            created.append(delivery)
    if created:
        session.flush()
        for delivery in created:
            _queue_attempt(session, delivery, 1, run_at=None)
    return created


def _queue_attempt(session: Session, delivery: WebhookDelivery, number: int, *, run_at: datetime | None) -> None:
    enqueue(
        session,
        DELIVER_TASK,
        {"delivery_id": delivery.id, "attempt": number},
        run_at=run_at,
        dedupe_key=f"webhook-delivery:{delivery.id}:{number}",
    )


@dataclass(frozen=True)
class AttemptResult:
    status: int | None
    error: str | None
    duration_ms: int
    excerpt: str | None = None


def record_attempt(session: Session, delivery_id: int, number: int, result: AttemptResult) -> WebhookDelivery | None:
    """Log attempt ``number`` and decide: delivered, retry later (the next attempt queued), or failed.

    A second report of the same attempt (a job run twice) is ignored.
    """
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if delivery is None or delivery.attempts >= number:
        return None
    moment = now()
    delivery.attempts = number
    delivery.response_status = result.status
    delivery.last_error = result.error
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=number,
            attempted_at=moment,
            response_status=result.status,
            error=result.error,
            duration_ms=result.duration_ms,
            response_excerpt=result.excerpt,
        )
    )
    if is_success(result.status):
        delivery.state = "delivered"
        delivery.delivered_at = moment
        delivery.next_attempt_at = None
        return delivery
    retry_at = next_attempt_at(number, moment, delivery.give_up_at)
    delivery.next_attempt_at = retry_at
    if retry_at is None:
        delivery.state = "failed"
    else:
        _queue_attempt(session, delivery, number + 1, run_at=retry_at)
    return delivery


def redeliver(session: Session, delivery_id: int, organizer_id: int | None = None) -> WebhookDelivery:
    """Send a delivery again now (the organizer's button), with a fresh three-day retry window."""
    delivery = get_delivery(session, delivery_id, organizer_id)
    delivery = session.get(WebhookDelivery, delivery.id, with_for_update=True, populate_existing=True) or delivery
    if not delivery.endpoint.enabled:
        raise Conflict("The endpoint is disabled; enable it before redelivering.", code="endpoint-disabled")
    moment = now()
    delivery.state = "pending"
    delivery.give_up_at = moment + RETRY_WINDOW
    delivery.next_attempt_at = moment
    # No dedupe key: a retry already queued for the same number finds the attempt recorded and stops.
    enqueue(session, DELIVER_TASK, {"delivery_id": delivery.id, "attempt": delivery.attempts + 1})
    return delivery
