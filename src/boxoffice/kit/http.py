"""App-level JSON:API wiring: :func:`install` and the exception handlers it registers.

After ``install(app)`` every error is a JSON:API error document:

* :class:`~boxoffice.errors.DomainError` → its status and ``as_jsonapi()``;
* request validation errors → 422 with ``source.pointer`` for the body (409 for a wrong primary
  ``type``, 400 for a body that is not a JSON object), 400 with ``source.parameter`` for the query,
  404 for a path value that cannot exist;
* Starlette's ``HTTPException`` (unknown route 404, wrong method 405, ...) → JSON:API shaped;
* anything else → a logged, generic 500.

It also adds content negotiation under ``/v1`` (:mod:`boxoffice.kit.negotiation`) and rewrites the
OpenAPI description for the JSON:API media type (:mod:`boxoffice.kit.openapi`). The response
class lives in :mod:`boxoffice.kit.responses` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from boxoffice.errors import DomainError
from boxoffice.kit.negotiation import NegotiationMiddleware
from boxoffice.kit.openapi import ACTION_ERRORS, READ_ERRORS, error_responses, patch_openapi
from boxoffice.kit.responses import (
    JSONAPIResponse,
    domain_error_response,
    dumps,
    error_response,
    http_error,
    server_error_response,
)
from boxoffice.kit.validation import validation_errors

__all__ = [
    "ACTION_ERRORS",
    "READ_ERRORS",
    "JSONAPIResponse",
    "domain_error_response",
    "dumps",
    "error_response",
    "error_responses",
    "http_error",
    "install",
    "server_error_response",
]


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    status, errors = validation_errors(exc.errors(), exc.body)
    return error_response(errors, status)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404 and exc.detail == "Not Found":
        detail = f"There is nothing at {request.url.path}."
    elif status == 405 and exc.detail == "Method Not Allowed":
        allowed = _allowed_methods(request)
        if request.method == "OPTIONS":
            # What may be done here (RFC 9110 §9.3.7), rather than a refusal of OPTIONS itself.
            return Response(status_code=204, headers={"Allow": allowed})
        detail = f"{request.method} is not allowed on {request.url.path}."
        # Starlette names only the first matching route's methods.
        return error_response([http_error(status, detail)], status, {**(exc.headers or {}), "Allow": allowed})
    else:
        detail = str(exc.detail)
    return error_response([http_error(status, detail)], status, exc.headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path, and OPTIONS: the ``Allow`` header.

    Each method is tried against the routes (included routers answer for their own routes too).
    """
    routes = request.app.router.routes
    methods = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]
    return ", ".join([*methods, "OPTIONS"])


async def _unhandled(request: Request, exc: Exception) -> Response:
    # Only errors raised outside NegotiationMiddleware get here (it logs and answers the others);
    # Starlette re-raises afterwards, so the server logs the traceback.
    return server_error_response()


def install(
    app: FastAPI,
    *,
    prefix: str = "/v1",
    exempt: Iterable[str] = ("/v1/webhooks/",),
    form_prefixes: Iterable[str] = (),
) -> None:
    """Make ``app`` speak JSON:API under ``prefix``: error handlers, content negotiation, JSON:API
    500s and an OpenAPI description with the JSON:API media type.

    ``exempt`` path prefixes (provider webhooks) skip content negotiation; paths under
    ``form_prefixes`` also accept form bodies. Call once, right after creating the app.
    """
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unhandled)
    app.add_middleware(NegotiationMiddleware, prefix=prefix, exempt=tuple(exempt), form_prefixes=tuple(form_prefixes))
    patch_openapi(app, prefix)
