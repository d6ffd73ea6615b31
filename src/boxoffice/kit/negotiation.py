"""JSON:API content negotiation, and the last line of defence against unhandled errors.

Under the API prefix (``/v1``):

* a request with a body (``POST``, ``PUT``, ``PATCH``, ``DELETE``) must say
  ``application/vnd.api+json`` (only the ``profile`` parameter; an ``ext`` names an extension this
  server does not support) or ``application/json``; form types only where configured. Otherwise
  415. An empty body needs no ``Content-Type``, but a JSON:API one must still be well-formed.
* an ``Accept`` header that names the JSON:API media type only with other parameters → 406.

Everywhere, an exception that escaped the app becomes a logged, generic JSON:API 500.
This is a plain ASGI middleware: it costs a few header look-ups per request.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.kit.jsonapi import MEDIA_TYPE
from boxoffice.kit.responses import error_response, http_error, server_error_response

log = logging.getLogger("boxoffice.http")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _split(value: str) -> tuple[str, dict[str, str]]:
    """A media range and its parameters (names lower-cased; ``q`` and what follows dropped)."""
    media, *raw = value.split(";")
    params: dict[str, str] = {}
    for item in raw:
        name, _, param_value = item.strip().partition("=")
        name = name.strip().lower()
        if name == "q":
            break
        params[name] = param_value.strip().strip('"')
    return media.strip().lower(), params


def content_type_error(content_type: str | None, has_body: bool, forms: bool) -> str | None:
    """Why a request body's ``Content-Type`` is refused, or ``None`` when it is fine."""
    if content_type is None:
        return "A request with a body needs a Content-Type of application/vnd.api+json." if has_body else None
    media, params = _split(content_type)
    if not has_body and media != MEDIA_TYPE:  # e.g. `curl -d ''` on an action: nothing to read
        return None
    if media == MEDIA_TYPE:
        if params.get("ext"):
            return f'This server supports no JSON:API extensions (ext="{params["ext"]}").'
        others = sorted(set(params) - {"ext", "profile"})
        if others:
            return f"The JSON:API media type takes no parameter '{others[0]}'."
        return None
    if media == "application/json" or (forms and media in _FORM_TYPES):
        return None
    return f"Send documents as {MEDIA_TYPE}, not {media or 'nothing'}."


def accept_error(accept: str | None) -> str | None:
    """Why an ``Accept`` header cannot be served, or ``None`` when it can."""
    if accept is None or MEDIA_TYPE not in accept.lower():
        return None
    instances = [params for media, params in map(_split, accept.split(",")) if media == MEDIA_TYPE]
    if not instances or any(set(p) <= {"profile", "ext"} and not p.get("ext") for p in instances):
        return None
    return f"Every {MEDIA_TYPE} in Accept carries parameters this server does not support."


class NegotiationMiddleware:
    """Checks media types under ``prefix`` and turns escaped exceptions into JSON:API 500s."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str = "/v1",
        exempt: tuple[str, ...] = (),
        form_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.exempt = exempt
        self.form_prefixes = form_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if (path == self.prefix or path.startswith(self.prefix + "/")) and not path.startswith(self.exempt):
            refusal = self._refusal(scope, path)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), path)
            if started:
                raise
            await server_error_response()(scope, receive, send)

    def _refusal(self, scope: Scope, path: str) -> ASGIApp | None:
        content_type = accept = None
        has_body = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"content-length":
                has_body = value.strip() not in (b"0", b"")
            elif name == b"transfer-encoding":
                has_body = True
        if scope["method"] in _BODY_METHODS:
            reason = content_type_error(content_type, has_body, path.startswith(self.form_prefixes))
            if reason is not None:
                return error_response([http_error(415, reason)], 415)
        reason = accept_error(accept)
        if reason is not None:
            return error_response([http_error(406, reason)], 406)
        return None
