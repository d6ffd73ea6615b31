"""App wiring of the HTTP layer: answering replays and telling clients when to retry.

Call :func:`install` after :func:`boxoffice.kit.http.install`.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api.idempotency import KeyInProgress, Replayed
from boxoffice.api.ratelimit import LoginThrottled
from boxoffice.errors import DomainError
from boxoffice.kit.responses import domain_error_response


async def _replayed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replayed)
    return exc.response


async def _retry_later(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginThrottled | KeyInProgress)
    response = domain_error_response(exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install(app: FastAPI) -> None:
    """Answer an Idempotency-Key replay with the stored response, and give ``Retry-After`` to 429s
    and to requests whose key is still in progress."""
    app.add_exception_handler(Replayed, _replayed)
    for error in (LoginThrottled, KeyInProgress):
        assert issubclass(error, DomainError)
        app.add_exception_handler(error, _retry_later)
