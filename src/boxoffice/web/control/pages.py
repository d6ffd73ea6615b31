"""The control panel's router: logging in and out, the list of events, and every section's pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api.ratelimit import LoginThrottled
from boxoffice.catalogue.models import Organizer
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError
from boxoffice.web.control import (
    banking,
    cancelpage,
    checkin,
    dashboard,
    eventpages,
    eventsettings,
    orderactions,
    orders,
    organizer,
    products,
    shredder,
    webhookpages,
)
from boxoffice.web.control.panel import events_of
from boxoffice.web.control.session import (
    clear_session_cookie,
    current_user,
    log_in,
    log_out,
    set_session_cookie,
)
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, field_errors, page, text
from boxoffice.web.templating import render

router = APIRouter(prefix="/control", include_in_schema=False)
# The organizer's pages first: /<organizer>/team/ is theirs, not an event called "team".
for section in (
    organizer, dashboard, orders, orderactions, banking, eventsettings, webhookpages, shredder, eventpages, products,
    cancelpage, checkin,
):
    router.include_router(section.router)


def _safe_next(target: str) -> str:
    """Only a path inside the control panel: never an open redirect to another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/control/") or target.startswith("//"):
        return "/control/"
    return target


@router.get("/login")
@page
def login_form(request: Request) -> Response:
    return render(request, "control/login.html", {"next": _safe_next(request.query_params.get("next", "")),
                                                  "error": None, "errors": {}, "email": ""})


@router.post("/login")
@page
def login(request: Request, form: Form) -> Response:
    target = _safe_next(text(form, "next"))
    client_ip = request.client.host if request.client else None
    try:
        token = log_in(text(form, "email"), str(form.get("password") or ""), client_ip)
    except DomainError as exc:
        context = {"next": target, "error": exc, "errors": field_errors(exc), "email": text(form, "email")}
        refused: Response = render(request, "control/login.html", context, status_code=exc.status)
        if isinstance(exc, LoginThrottled):
            refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    response = redirect(target)
    set_session_cookie(request, response, token)
    return response


@router.post("/logout")
@page
def logout(request: Request, form: Form) -> Response:
    log_out(request)
    response = redirect("/control/login", "You are logged out.")
    clear_session_cookie(response)
    return response


@router.get("/")
@page
def home(request: Request) -> Response:
    """The events of the user's organizers; straight to the dashboard when there is only one."""
    with unit_of_work() as session:
        principal = current_user(request, session)
        events = events_of(session, principal)
        if len(events) == 1:
            event = events[0]
            return redirect(f"/control/{event.organizer.slug}/{event.slug}/")
        teams = session.execute(
            select(Organizer).where(Organizer.id.in_(list(principal.roles))).order_by(Organizer.name)
        ).scalars().all()
        if not events and len(teams) == 1:  # a new organizer: straight to creating the first event
            return redirect(f"/control/{teams[0].slug}/")
        context = {"events": events, "organizers": teams, "user": principal.label.removeprefix("user:")}
        return render(request, "control/home.html", context)



