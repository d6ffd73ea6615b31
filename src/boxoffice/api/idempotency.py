"""``Idempotency-Key`` on every POST (Stripe's semantics), stored in the use case's own transaction.

A request with a key first *claims* it inside the unit of work that runs the use case: an insert
into ``idempotency_keys`` that the unique ``(scope, key)`` turns into a queue. A concurrent request
with the same key waits at that insert until the first transaction ends, then finds the stored
response and replays it — so the use case runs once. The response is written to the same row, in
the same transaction (:func:`complete`), so a committed change always has its answer stored.

Use cases that commit in several steps (write-ahead payments and refunds) leave the row
``in-progress`` between their units of work: a request with the key arriving then gets 409
``idempotency-key-in-progress`` (with ``Retry-After``). A row whose request died is handed to the
next request after :data:`~boxoffice.api.rules.LEASE`; the service layer's own rules (write-ahead
attempts, one open attempt per order) keep a rerun from moving money twice.

Errors that changed nothing are not stored: retrying such a request runs it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from starlette.responses import Response

from boxoffice.api import rules
from boxoffice.api.models import IdempotencyKey
from boxoffice.errors import BadRequest, Conflict, InvalidValue
from boxoffice.kit.clock import now
from boxoffice.outbox.repository import insert_or_skip

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Response headers that are part of the answer (others are recomputed by the server).
KEPT_HEADERS = ("content-type", "location")
RETRY_IN_PROGRESS_SECONDS = 1


@dataclass(frozen=True)
class KeyedRequest:
    """The key a request came with and what the request was."""

    key: str
    fingerprint: str


class Replayed(Exception):
    """The request was answered before: ``response`` is that answer (rendered by the app's handler)."""

    def __init__(self, response: Response) -> None:
        super().__init__("replayed")
        self.response = response


class _HeaderError:
    """Errors about the ``Idempotency-Key`` header point at it (``source.header``)."""

    def as_jsonapi(self) -> dict[str, Any]:
        error: dict[str, Any] = super().as_jsonapi()  # type: ignore[misc]
        error["source"] = {"header": HEADER}
        return error


class InvalidKey(_HeaderError, BadRequest):
    code = "invalid-idempotency-key"


class KeyReused(_HeaderError, InvalidValue):
    code = "idempotency-key-reused"
    title = "Idempotency key reused"


class KeyInProgress(_HeaderError, Conflict):
    code = "idempotency-key-in-progress"
    title = "Request in progress"
    retry_after = RETRY_IN_PROGRESS_SECONDS


def claim(session: Session, scope: str, request: KeyedRequest) -> int:
    """Claim ``request.key`` for this request in the caller's transaction; return the row's id.

    Raises :class:`Replayed` with the stored answer, :class:`KeyReused` (422) when the key was used
    for another request, :class:`KeyInProgress` (409) while its first request is still running.
    """
    moment = now()
    fresh: dict[str, Any] = {
        "fingerprint": request.fingerprint,
        "state": rules.IN_PROGRESS,
        "status_code": None,
        "body": None,
        "headers": {},
        "created_at": moment,
        "locked_until": moment + rules.LEASE,
    }
    while True:
        row_id = insert_or_skip(
            session, IdempotencyKey, {"scope": scope, "key": request.key, **fresh}, unique=["scope", "key"]
        )
        if row_id is not None:
            return row_id
        row = session.execute(
            select(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == request.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is not None:
            break
        # Pruned between the insert and the select: insert again.
    decision = rules.decide(
        state=row.state,
        same_request=row.fingerprint == request.fingerprint,
        created_at=row.created_at,
        locked_until=row.locked_until,
        now=moment,
    )
    if decision == rules.KeyDecision.REPLAY:
        raise Replayed(_stored_response(row))
    if decision == rules.KeyDecision.REUSED:
        raise KeyReused(
            f"This {HEADER} was used for a different request; use a new key for a new request.",
        )
    if decision == rules.KeyDecision.IN_PROGRESS:
        raise KeyInProgress(
            f"A request with this {HEADER} is still running; retry in a moment to get its answer.",
        )
    for name, value in fresh.items():
        setattr(row, name, value)
    return row.id


def complete(session: Session, key_id: int, response: Response) -> None:
    """Store ``response`` as the answer of the key's request (in the use case's transaction)."""
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id)
        .values(
            state=rules.DONE,
            status_code=response.status_code,
            body=bytes(response.body).decode(),
            headers=headers,
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    )


def _stored_response(row: IdempotencyKey) -> Response:
    headers = {**row.headers, REPLAYED_HEADER: "true"}
    media_type = headers.pop("content-type", None)
    return Response(content=row.body or b"", status_code=row.status_code or 200, headers=headers, media_type=media_type)


def prune(session: Session) -> int:
    """Delete keys older than the replay window; returns how many."""
    result = session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at < now() - rules.REPLAY_WINDOW)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
