"""One-shot messages shown on the page a successful POST redirects to (post/redirect/get)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

FLASH_COOKIE = "bo_flash"
# Long enough for a webhook secret shown once; a cookie holds about 4 KB.
MAX_LENGTH = 1000


def redirect(url: str, message: str | None = None) -> RedirectResponse:
    """303 to ``url``, carrying ``message`` to the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(FLASH_COOKIE, quote(message[:MAX_LENGTH]), httponly=True, samesite="lax", max_age=120)
    return response


def take(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    return unquote(raw) if raw else None


def clear(request: Request, response: Response) -> None:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
