"""The inbox: every provider callback is verified, stored once, answered, then processed by id.

Two ways in, one code path:

* over HTTP (``POST /v1/webhooks/{provider}``, :mod:`boxoffice.inbox.api`): :func:`receive` verifies
  and stores in the request's transaction, the request commits and answers 2xx, then
  :func:`process_event` applies each new event in a transaction of its own (an ``inbox.process`` job
  queued with the events, :mod:`boxoffice.inbox.tasks`). :func:`sweep_unprocessed` catches up on
  whatever was left ``received`` (a crash, a row that was not there yet, a passing outage).
* in process (:func:`deliver`): a provider living in our own process (the sandbox processor) hands
  its signed callback over directly; it is verified, stored and processed by the same functions,
  inside the caller's transaction.

Processing is idempotent: the event row is locked, and only a ``received`` event is applied; a
replayed callback finds its ``(provider, external_id)`` already stored and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, NotFound
from boxoffice.inbox.models import EventState, ProviderEvent
from boxoffice.kit.clock import now
from boxoffice.providers.registry import provider_class
from boxoffice.providers.webhooks import IncomingEvent, WebhookNotReady, WebhookOutcome, WebhooksNotSupported

log = logging.getLogger(__name__)

# After this many tries an event that still cannot be applied is marked failed for a person to look at.
MAX_ATTEMPTS = 12
# How long a received event is left alone before the sweep tries it (again).
SWEEP_AFTER = timedelta(minutes=1)
_ERROR_LENGTH = 2000
_DETAIL_LENGTH = 1000

UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Received:
    """One event of a callback: its row id and whether this delivery stored it (False: a replay)."""

    event_id: int
    new: bool


def receive(session: Session, provider: str, headers: Mapping[str, str], body: bytes) -> list[Received]:
    """Verify a callback with its provider and store each event it carries, once.

    Raises :class:`~boxoffice.providers.webhooks.WebhookSignatureInvalid` (nothing stored) for a
    forged callback, :class:`~boxoffice.providers.webhooks.WebhooksNotSupported` for a provider that
    takes none. Runs in the caller's transaction; processing is separate (:func:`handle`).
    """
    try:
        cls = provider_class(provider)
    except DomainError:
        raise WebhooksNotSupported(f"There is no payment provider '{provider}'.") from None
    lowered = {name.lower(): value for name, value in headers.items()}
    return [_store(session, provider, incoming) for incoming in cls.verify_webhook(session, lowered, body)]


def _store(session: Session, provider: str, incoming: IncomingEvent) -> Received:
    existing = _find(session, provider, incoming.external_id)
    if existing is not None:
        return Received(existing, new=False)
    row = ProviderEvent(
        provider=provider,
        external_id=incoming.external_id,
        event_type=incoming.type,
        payload=incoming.payload,
        organizer_id=incoming.organizer_id,
        state=EventState.RECEIVED,
        attempts=0,
        received_at=now(),
        updated_at=now(),
    )
    try:
        # The unique constraint decides between two deliveries of one event racing each other.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        winner = _find(session, provider, incoming.external_id)
        if winner is None:
            raise
        return Received(winner, new=False)
    return Received(row.id, new=True)


def _find(session: Session, provider: str, external_id: str) -> int | None:
    return session.execute(
        select(ProviderEvent.id).where(ProviderEvent.provider == provider, ProviderEvent.external_id == external_id)
    ).scalar()


def handle(session: Session, event_id: int) -> ProviderEvent:
    """Apply one stored event through its provider, in the caller's transaction.

    Only a ``received`` event is applied (so a second call is a no-op). When the provider says the
    row it refers to is not there yet, or something unexpected breaks, the event stays ``received``
    with one more attempt and the error noted, for the sweep; after :data:`MAX_ATTEMPTS`, or when our
    rules refuse it, it is ``failed``. The provider's changes of a failed try are rolled back.
    """
    row = session.execute(
        select(ProviderEvent)
        .where(ProviderEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Provider event {event_id} does not exist.", parameter="id")
    if row.state != EventState.RECEIVED:
        return row
    row.attempts += 1
    row.updated_at = now()
    session.flush()
    try:
        with session.begin_nested():
            result = provider_class(row.provider).process_webhook_event(session, row)
    except WebhookNotReady as exc:
        _retry_later(row, f"not ready: {exc}")
    except DomainError as exc:
        # Our own rules refuse it (e.g. a state move the tables do not allow): retrying cannot help.
        log.warning("Provider event %s (%s %s) refused: %s", row.id, row.provider, row.event_type, exc.detail)
        _finish(row, EventState.FAILED, error=exc.detail)
    except Exception as exc:  # the event must not be lost to a bug or an outage: keep it for the sweep
        log.exception("Provider event %s (%s %s) failed", row.id, row.provider, row.event_type)
        _retry_later(row, f"{type(exc).__name__}: {exc}")
    else:
        state = EventState.PROCESSED if result.outcome == WebhookOutcome.PROCESSED else EventState.IGNORED
        _finish(row, state, error=None)
        row.detail = result.detail[:_DETAIL_LENGTH] if result.detail else None
        if result.order_id is not None:
            row.order_id = result.order_id
    return row


def _retry_later(row: ProviderEvent, error: str) -> None:
    row.last_error = error[:_ERROR_LENGTH]
    if row.attempts >= MAX_ATTEMPTS:
        _finish(row, EventState.FAILED, error=f"gave up after {row.attempts} attempts; last: {error}")


def _finish(row: ProviderEvent, state: EventState, *, error: str | None) -> None:
    row.state = state
    row.last_error = error[:_ERROR_LENGTH] if error else None
    row.processed_at = now()


def deliver(session: Session, provider: str, headers: Mapping[str, str], body: bytes) -> list[ProviderEvent]:
    """Take a callback from a provider in our own process: verify, store and apply it, all in the
    caller's transaction (the same functions an HTTP callback goes through). Returns the events."""
    return [handle(session, item.event_id) for item in receive(session, provider, headers, body)]


def process_event(event_id: int, *, uow: UnitOfWork = unit_of_work) -> str:
    """Apply stored event ``event_id`` in a transaction of its own; returns its state afterwards.

    The entry point of the ``inbox.process`` job after a callback was answered.
    """
    with uow() as session:
        return handle(session, event_id).state


def sweep_unprocessed(
    older_than: timedelta = SWEEP_AFTER, *, limit: int = 200, uow: UnitOfWork = unit_of_work
) -> int:
    """Process again events still ``received`` and untouched for ``older_than``; returns how many
    were tried. Meant to run periodically; each event gets its own transaction."""
    cutoff = now() - older_than
    with uow() as session:
        ids = session.execute(
            select(ProviderEvent.id)
            .where(ProviderEvent.state == EventState.RECEIVED, ProviderEvent.updated_at <= cutoff)
            .order_by(ProviderEvent.id)
            .limit(limit)
        ).scalars().all()
    for event_id in ids:
        process_event(event_id, uow=uow)
    return len(ids)


def events_query(
    organizer_id: int,
    *,
    provider: str | None = None,
    states: Sequence[str] | None = None,
    order_id: int | None = None,
) -> Select[ProviderEvent]:
    """The organizer's provider events, newest first, as a query to paginate."""
    query = select(ProviderEvent).where(ProviderEvent.organizer_id == organizer_id)
    if provider is not None:
        query = query.where(ProviderEvent.provider == provider)
    if states:
        query = query.where(ProviderEvent.state.in_(list(states)))
    if order_id is not None:
        query = query.where(ProviderEvent.order_id == order_id)
    return query.order_by(ProviderEvent.id.desc())


def list_events(
    session: Session,
    organizer_id: int,
    *,
    provider: str | None = None,
    states: Sequence[str] | None = None,
    order_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ProviderEvent]:
    """The organizer's provider events and their outcome (state, detail, attempts, last error), newest first."""
    query = events_query(organizer_id, provider=provider, states=states, order_id=order_id)
    return list(session.execute(query.limit(limit).offset(offset)).scalars())
