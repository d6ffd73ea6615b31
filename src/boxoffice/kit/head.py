"""``HEAD`` answers like ``GET``, without the body (RFC 9110 §9.3.2), for every ``GET`` path.

FastAPI routes declare ``GET`` only, so a ``HEAD`` would be 405. This middleware runs the ``GET``
handler and keeps its status and headers (Content-Length included) but sends no body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        # Changed in place, so middleware outside sees the route the request matched.
        scope["method"] = "GET"
        await self.app(scope, receive, send_headers_only)
