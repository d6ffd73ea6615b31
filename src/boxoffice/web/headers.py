"""Security headers on every answer: no MIME sniffing, no framing, a strict policy for pages.

Every response gets ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and a
``Referrer-Policy`` that keeps a page's address (an order page's is a secret link) on this site.
HTML answers also get a Content-Security-Policy: scripts, frames and connections only from this
site and from the origin ``BOXOFFICE_STRIPE_JS_URL`` names (Stripe.js on checkout pages), no
plugins, no framing by other sites. Inline styles stay allowed (the pages set a few colours that
way); inline scripts do not. ``/docs`` is the API explorer's own page and keeps its own rules.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.config import get_settings

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
CSP_EXEMPT_PREFIXES = ("/docs",)
# Stripe.js opens 3-D Secure frames and calls the API from these, besides its own origin.
_STRIPE_EXTRA = {"frame-src": "https://hooks.stripe.com", "connect-src": "https://api.stripe.com"}


@cache
def content_security_policy(stripe_js_url: str) -> str:
    """The pages' policy, allowing Stripe.js from the origin of ``stripe_js_url``."""
    parts = urlsplit(stripe_js_url)
    stripe = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    real_stripe = parts.netloc == "js.stripe.com"
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' {stripe}",
        "frame-src": f"'self' {stripe}" + (f" {_STRIPE_EXTRA['frame-src']}" if real_stripe else ""),
        "connect-src": f"'self' {stripe}" + (f" {_STRIPE_EXTRA['connect-src']}" if real_stripe else ""),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value.strip()}" for name, value in directives.items())


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response (pure ASGI: streamed bodies pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = str(scope.get("path", "")).startswith(CSP_EXEMPT_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if not exempt and headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault(
                        "Content-Security-Policy", content_security_policy(get_settings().stripe_js_url)
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
