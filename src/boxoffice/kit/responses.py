"""The JSON:API response class and the error responses every part of the HTTP layer shares."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse

from boxoffice.errors import DomainError
from boxoffice.kit.jsonapi import MEDIA_TYPE, error_document, serialize_value

_encoder = json.JSONEncoder(default=serialize_value, ensure_ascii=False, separators=(",", ":"), check_circular=False)
_ascii_encoder = json.JSONEncoder(default=serialize_value, separators=(",", ":"), check_circular=False)


def dumps(document: Any) -> bytes:
    """A document as compact UTF-8 JSON, with Decimals, datetimes and enums written the API's way.

    Text that is not UTF-8 (a lone surrogate quoted from a request) is written as JSON escapes, so
    an answer about bad input never fails itself."""
    try:
        return _encoder.encode(document).encode()
    except UnicodeEncodeError:
        return _ascii_encoder.encode(document).encode()


class JSONAPIResponse(JSONResponse):
    """A response carrying a JSON:API document, media type ``application/vnd.api+json``.

    Return it from endpoints (``return JSONAPIResponse(doc, status_code=201)``): FastAPI passes a
    ``Response`` through untouched, so a ``response_model`` only documents and costs nothing.
    (It subclasses ``JSONResponse`` so that FastAPI documents the ``response_model`` for it.)
    """

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        """Encode ``content`` (a dict document, or ``None`` for an empty body)."""
        if content is None:
            return b""
        return dumps(content)


_HTTP_CODES = {
    400: ("bad-request", "Malformed request"),
    401: ("not-authenticated", "Authentication required"),
    403: ("permission-denied", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "State conflict"),
    413: ("payload-too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-value", "Invalid value"),
    429: ("too-many-requests", "Too many requests"),
}


def http_error(status: int, detail: str, *, code: str | None = None) -> dict[str, Any]:
    """A JSON:API error object for a bare HTTP status (code and title chosen by status)."""
    default_code, title = _HTTP_CODES.get(status, ("server-error" if status >= 500 else "http-error", "Error"))
    return {"status": str(status), "code": code or default_code, "title": title, "detail": detail}


def error_response(
    errors: Sequence[Mapping[str, Any]], status: int, headers: Mapping[str, str] | None = None
) -> JSONAPIResponse:
    """A response with a JSON:API error document."""
    return JSONAPIResponse(error_document(errors), status_code=status, headers=headers)


def domain_error_response(exc: DomainError) -> JSONAPIResponse:
    """The response for a :class:`~boxoffice.errors.DomainError`: its status and error object."""
    return error_response([exc.as_jsonapi()], exc.status)


SERVER_ERROR: Mapping[str, str] = {
    "status": "500",
    "code": "server-error",
    "title": "Server error",
    "detail": "Something went wrong on our side. It has been logged; please try again later.",
}


def server_error_response() -> JSONAPIResponse:
    """The 500 response: a generic error that tells nothing about the internals."""
    return error_response([SERVER_ERROR], 500)
