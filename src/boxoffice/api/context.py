"""The caller of one request and the units of work its endpoint runs.

Endpoints are plain ``def`` functions that take a :class:`Call` (as the ``Reader``, ``Writer`` or
``OpenWriter`` dependency) and run their use case in explicit units of work::

    @router.post("/v1/orders/{order_id}/mark-paid")
    def mark_paid(order_id: OrderId, call: Writer) -> Response:
        with call.unit() as tx:                  # resolves the caller, claims the Idempotency-Key
            order = access.order(tx, order_id)
            ...service...(tx.session, ..., actor=tx.actor)
            return tx.respond(JSONAPIResponse(...))   # stores the answer with the key
        # committed here, before FastAPI sends the response

The ``with`` block commits before the endpoint returns, so whoever reads right after the answer
sees the change (a dependency with ``yield`` would make that depend on FastAPI's version).
Use cases that must commit in steps (write-ahead payments) open several units; the key claimed by
the first is completed by the one that calls :meth:`Tx.respond`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.accounts.auth import ANONYMOUS, BUYER, Principal, parse_authorization, resolve
from boxoffice.accounts.service import hash_token
from boxoffice.api import idempotency, rules
from boxoffice.db import read_only, unit_of_work
from boxoffice.errors import DomainError
from boxoffice.kit.openapi import OPTIONAL_SCHEME
from boxoffice.kit.responses import domain_error_response

_authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="token",
    auto_error=False,
    description=(
        "`Bearer <token>` or `JWT <token>`: a user's token from `POST /v1/auth/session`, an organizer "
        "API token (`boxoffice tokens create`), or the buyer token an order's creation returns."
    ),
)
# The same header for operations anyone may call: the OpenAPI rewrite makes its requirement optional.
_optional_authorization = APIKeyHeader(
    name="Authorization", scheme_name=OPTIONAL_SCHEME, auto_error=False, description=_authorization.model.description
)
_KEY_DESCRIPTION = (
    "Makes the POST safe to retry: the same key with the same request replays the first answer for 24 "
    "hours; with a different request it is 422 idempotency-key-reused; while the first request still "
    "runs, 409 idempotency-key-in-progress. Keys are scoped to the caller (without credentials: to the "
    "client address); 1 to 255 visible ASCII characters; use a random UUID."
)


@dataclass
class Tx:
    """One unit of work of a request: its session, the caller, and the idempotency key it completes."""

    session: Session
    principal: Principal
    key_id: int | None = None
    completed: bool = False

    @property
    def actor(self) -> str:
        """Who the audit log names: the caller, or "buyer" for an anonymous one."""
        return BUYER if self.principal.kind == "anonymous" else self.principal.actor

    def respond(self, response: Response) -> Response:
        """Store ``response`` as the answer to the request's Idempotency-Key (if any) and return it."""
        if self.key_id is not None:
            idempotency.complete(self.session, self.key_id, response)
        self.completed = True
        return response


@dataclass
class Call:
    """What the request brought: its credentials and, for writes, its Idempotency-Key."""

    request: Request
    token: str | None
    keyed: idempotency.KeyedRequest | None = None
    # A key row committed in progress by an earlier unit of this request.
    _open_key: int | None = field(default=None, repr=False)

    @contextmanager
    def unit(self) -> Iterator[Tx]:
        """A unit of work for the endpoint: commit on success, roll back on any error.

        The caller is resolved inside it (401 for a bad token); a write's Idempotency-Key is claimed
        in the first unit (a replay raises :class:`~boxoffice.api.idempotency.Replayed`).
        """
        try:
            with unit_of_work() as session:
                principal = resolve(session, self.token)
                tx = Tx(session, principal, key_id=self._open_key)
                if self.keyed is not None and tx.key_id is None:
                    tx.key_id = idempotency.claim(session, self._scope(principal), self.keyed)
                yield tx
        except DomainError as exc:
            if self._open_key is not None:
                # An earlier step is committed: this refusal is the request's answer, and is kept.
                with unit_of_work() as session:
                    idempotency.complete(session, self._open_key, domain_error_response(exc))
                self._open_key = None
            raise
        self._open_key = None if tx.completed else tx.key_id

    @contextmanager
    def look(self) -> Iterator[Session]:
        """A read-only session for a look before the first unit of work (a refusal that needs no
        transaction). The caller is resolved first, so a bad token is still 401 before anything."""
        with read_only() as session:
            resolve(session, self.token)
            yield session

    def _scope(self, principal: Principal) -> str:
        if principal.kind == "user":
            return f"user:{principal.user_id}"
        if principal.kind == "buyer":
            return f"order:{principal.order_id}"
        if principal.kind == "token" and self.token is not None:
            return f"token:{hash_token(self.token)[:40]}"
        return rules.anonymous_scope(self.client_ip)

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client else None


def _token(header: str | None, *, required: bool) -> str | None:
    token = parse_authorization(header)
    if token is None and required:
        # Raised by the dependency, so an anonymous call hears 401 before anything about its body.
        ANONYMOUS.require_authenticated()
    return token


async def _keyed(request: Request, key: str | None) -> idempotency.KeyedRequest | None:
    if key is None:
        return None
    if not rules.valid_key(key):
        raise idempotency.InvalidKey(
            f"An {idempotency.HEADER} is 1 to {rules.MAX_KEY_LENGTH} visible ASCII characters."
        )
    body = await request.body()
    return idempotency.KeyedRequest(key, rules.fingerprint(request.method, request.url.path, request.url.query, body))


AuthorizationHeader = Annotated[str | None, Depends(_authorization)]
# The format is documented here and checked by ``_keyed`` (400 with ``source.header``).
KeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description=_KEY_DESCRIPTION,
        json_schema_extra={"pattern": rules.KEY_PATTERN, "minLength": 1, "maxLength": rules.MAX_KEY_LENGTH},
    ),
]


async def _reader(request: Request, authorization: AuthorizationHeader) -> Call:
    return Call(request, _token(authorization, required=True))


async def _writer(request: Request, authorization: AuthorizationHeader, idempotency_key: KeyHeader = None) -> Call:
    return Call(request, _token(authorization, required=True), await _keyed(request, idempotency_key))


async def _open_writer(
    request: Request,
    authorization: Annotated[str | None, Depends(_optional_authorization)],
    idempotency_key: KeyHeader = None,
) -> Call:
    return Call(request, _token(authorization, required=False), await _keyed(request, idempotency_key))


Reader = Annotated[Call, Depends(_reader)]
"""A read by an authenticated caller."""

Writer = Annotated[Call, Depends(_writer)]
"""A write by an authenticated caller, with an optional Idempotency-Key."""

OpenWriter = Annotated[Call, Depends(_open_writer)]
"""A write anyone may make (placing an order, logging in), with an optional Idempotency-Key."""
