"""CSRF protection of every form: a random cookie and, in the form, its HMAC under the secret key.

A page sets the ``bo_csrf`` cookie (HttpOnly, SameSite=Lax) when the browser has none and puts
``HMAC(key, cookie)`` in each form. Another site can make a browser send the cookie but can neither
read it nor compute the HMAC without the installation's secret key, so a forged POST is refused.
The key is derived from :func:`boxoffice.accounts.service.secret_key`, like the other signatures.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from boxoffice.accounts.service import secret_key
from boxoffice.db import unit_of_work
from boxoffice.errors import PermissionDenied

CSRF_COOKIE = "bo_csrf"
CSRF_FIELD = "csrf_token"


def prepare(request: Request) -> None:
    """Derive this request's signing key; call before the page opens its unit of work.

    A unit of work of its own, because a nested one would wait for the page's own write lock on
    SQLite. The secret key is cached per database after its first read, so this is cheap.
    """
    with unit_of_work() as session:
        secret = secret_key(session)
    request.state.csrf_key = hmac.new(secret.encode(), b"boxoffice csrf tokens", hashlib.sha256).digest()


def _sign(request: Request, value: str) -> str:
    return hmac.new(request.state.csrf_key, value.encode(), hashlib.sha256).hexdigest()


def _cookie_value(request: Request) -> str:
    value = getattr(request.state, "csrf_cookie", None)
    if value is None:
        value = request.cookies.get(CSRF_COOKIE) or ""
        if len(value) < 16:
            value = secrets.token_urlsafe(24)
            request.state.csrf_new = True
        request.state.csrf_cookie = value
    return str(value)


def csrf_token(request: Request) -> str:
    """The token to put in this request's forms."""
    return _sign(request, _cookie_value(request))


def apply_csrf_cookie(request: Request, response: Response) -> None:
    """Send the CSRF cookie when this request had to make one."""
    if getattr(request.state, "csrf_new", False):
        response.set_cookie(
            CSRF_COOKIE, _cookie_value(request), httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )


def check_csrf(request: Request, submitted: object) -> None:
    """Refuse (403) a form whose token does not belong to the browser's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not isinstance(submitted, str) or not hmac.compare_digest(_sign(request, cookie), submitted):
        raise PermissionDenied(
            "The form has expired or was not sent from this site. Reload the page and try again.",
            code="csrf-failed",
        )
