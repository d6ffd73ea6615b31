"""One ASGI middleware for every request: an X-Request-ID, an access log line and the HTTP metrics.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so streamed answers such as exports pass through
untouched. The route label is the matched route's template (``/v1/orders/{order_id}``), never the
raw path, so the metrics stay a handful of series.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.observability.logs import request_id
from boxoffice.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_log = logging.getLogger("boxoffice.access")

HEADER = b"x-request-id"
# A caller's id (a load balancer's, a client's) is kept when it is a plain token; anything else is replaced.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "<unmatched>"


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text = value.decode("latin-1")
            if _ACCEPTABLE_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    return getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED


class RequestTracking:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, rid = scope["method"], _incoming_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            path = scope.get("path", "")
            access_log.info(
                "%s %s %s %.1fms", method, path, status, elapsed * 1000,
                extra={"method": method, "path": path, "status": status, "duration_ms": round(elapsed * 1000, 1)},
            )
            request_id.reset(token)
