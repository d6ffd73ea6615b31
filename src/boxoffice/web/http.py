"""Request plumbing shared by the shop and the control panel: forms, CSRF, error pages, static files.

The JSON:API error handlers answer for the whole app, so the pages never let a domain error escape:
:func:`page` renders it as an HTML page with its status (a login redirect for 401 in the control panel).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar
from urllib.parse import quote

from fastapi import Depends
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from boxoffice.errors import DomainError, InvalidValue, NotAuthenticated, NotFound
from boxoffice.web import csrf
from boxoffice.web.csrf import CSRF_FIELD, check_csrf
from boxoffice.web.flash import redirect
from boxoffice.web.templating import render

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = frozenset({"boxoffice.css", "boxoffice.js", "stripe-checkout.js", "scanner.js"})

P = ParamSpec("P")
R = TypeVar("R", bound=Response)


class LoginRequired(NotAuthenticated):
    """The control panel needs a logged-in user: the page answers with a redirect to the login form."""

    code = "login-required"


async def read_form(request: Request) -> FormData:
    """The submitted form (a dependency: parsing is async, the page handlers are plain ``def``)."""
    return await request.form()


Form = Annotated[FormData, Depends(read_form)]


def error_page(request: Request, error: DomainError) -> Response:
    return render(request, "error.html", {"error": error}, status_code=error.status)


def page(handler: Callable[P, R]) -> Callable[P, Response]:
    """Wrap a page handler: check the CSRF token of a POST; render a domain error as an error page."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        request = kwargs["request"]
        assert isinstance(request, Request)
        try:
            csrf.prepare(request)
            if request.method == "POST":
                form = kwargs.get("form")
                check_csrf(request, form.get(CSRF_FIELD) if isinstance(form, FormData) else None)
            return handler(*args, **kwargs)
        except LoginRequired:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(f"/control/login?next={quote(target)}")
        except DomainError as exc:
            return error_page(request, exc)

    return wrapper


def text(form: FormData, name: str, default: str = "") -> str:
    """A text field of ``form``, stripped."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def integer(form: FormData, name: str, *, field: str | None = None) -> int:
    """A whole number field, or a 422 naming the field."""
    raw = text(form, name)
    try:
        return int(raw)
    except ValueError:
        raise InvalidValue(f"'{raw}' is not a whole number.", pointer=field or name) from None


def upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def static_file(name: str) -> Response:
    """One of the few hand-written static files (no directory listing, no path traversal)."""
    if name not in STATIC_FILES:
        raise NotFound(f"There is no static file '{name}'.")
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return FileResponse(STATIC_DIR / name, media_type=media, headers={"Cache-Control": "public, max-age=3600"})


def field_errors(error: DomainError | None) -> dict[str, Any]:
    """The error keyed by the form field it points at (last pointer segment), for ``aria-describedby``."""
    if error is None:
        return {}
    where = error.pointer or error.parameter or ""
    return {where.rsplit("/", 1)[-1]: error.detail}
