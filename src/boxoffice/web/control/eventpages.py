"""The event's own page: its details, its life (draft → test mode → live), test orders, cloning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.catalogue import service as catalogue
from boxoffice.catalogue.rules import TEST_ONLY_PROVIDERS
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, InvalidValue
from boxoffice.kit.currencies import currency_names
from boxoffice.orders.models import Order
from boxoffice.orders.testmode import delete_test_orders
from boxoffice.web.control.catalogueforms import event_details
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, field_errors, page, text
from boxoffice.web.templating import local_input, render

router = APIRouter()
EVENT = "/{organizer}/{event}/event/"

# What each step of the event's life sets (the page's buttons; the API sets the same two flags).
LIFE_STEPS: dict[str, dict[str, Any]] = {
    "draft": {"live": False},
    "test-mode": {"live": True, "test_mode": True},
    "live": {"live": True, "test_mode": False},
}
LIFE_MESSAGES = {
    "draft": "The shop is closed: it sells nothing until the event is in test mode or live.",
    "test-mode": "Test mode is on: the shop takes test orders, and the sandbox can pay them.",
    "live": "The event is live: the shop sells real tickets.",
}


def _values(panel: Panel) -> dict[str, Any]:
    event = panel.event
    return {
        "name": event.name, "slug": event.slug, "currency": event.currency, "timezone": event.timezone,
        "date-from": local_input(event.date_from, event.timezone), "date-to": local_input(event.date_to, event.timezone),
        "location": event.location, "description": event.description,
    }


def _event_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None, form_id: str | None = None,
    values: Mapping[str, Any] | None = None, status_code: int = 200,
) -> Response:
    test_orders = session.scalar(
        select(func.count(Order.id)).where(Order.event_id == panel.event.id, Order.test_mode.is_(True))
    )
    has_orders = session.execute(select(Order.id).where(Order.event_id == panel.event.id).limit(1)).first()
    context = {
        "panel": panel, "values": values or _values(panel), "currencies": currency_names(),
        "test_orders": test_orders or 0, "currency_locked": has_orders is not None,
        "error": error, "errors": field_errors(error), "form_id": form_id,
    }
    return render(request, "control/event.html", context, status_code=status_code)


@router.get(EVENT)
@page
def event_page(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _event_page(request, session, open_panel(request, session, organizer, event, "event", admin=True))


def _refused(request: Request, organizer: str, event: str, form_id: str, exc: DomainError, form: Form) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "event", admin=True)
        values = {**_values(panel), **dict(form)} if form_id == "details" else None
        return _event_page(request, session, panel, error=exc, form_id=form_id, values=values, status_code=exc.status)


@router.post(EVENT)
@page
def save_details(request: Request, organizer: str, event: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "event", admin=True)
            changes: dict[str, Any] = event_details(form, panel.event.timezone)
            changes.update(slug=text(form, "slug"), timezone=text(form, "timezone") or "UTC")
            if text(form, "currency"):
                changes["currency"] = text(form, "currency")
            catalogue.update_event(session, panel.event, changes, actor=panel.principal.actor)
            slug = panel.event.slug
    except DomainError as exc:
        return _refused(request, organizer, event, "details", exc, form)
    return redirect(f"/control/{organizer}/{slug}/event/", "Event details saved.")


@router.post(EVENT + "life")
@page
def change_life(request: Request, organizer: str, event: str, form: Form) -> Response:
    """Move the event to a step of its life. Going live also turns the test-only providers off."""
    step = text(form, "to")
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "event", admin=True)
            if step not in LIFE_STEPS:
                raise InvalidValue("Choose draft, test mode or live.", pointer="to")
            changes = dict(LIFE_STEPS[step])
            if step == "live":
                stored = panel.event.payment_providers or {}
                off = {p: {"enabled": False} for p in TEST_ONLY_PROVIDERS if (stored.get(p) or {}).get("enabled")}
                if off:
                    changes["payment_providers"] = off
            catalogue.update_event(session, panel.event, changes, actor=panel.principal.actor)
    except DomainError as exc:
        return _refused(request, organizer, event, "life", exc, form)
    return redirect(f"/control/{organizer}/{event}/event/#life", LIFE_MESSAGES[step])


@router.post(EVENT + "delete-test-orders")
@page
def remove_test_orders(request: Request, organizer: str, event: str, form: Form) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "event", admin=True)
        count = delete_test_orders(session, panel.event, actor=panel.principal.actor)
    return redirect(f"/control/{organizer}/{event}/event/#life", f"{count} test order(s) deleted.")


@router.post(EVENT + "clone")
@page
def clone(request: Request, organizer: str, event: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "event", admin=True)
            copy = catalogue.clone_event(
                session, panel.event, slug=text(form, "slug"), name=text(form, "name"), actor=panel.principal.actor
            )
            slug = copy.slug
    except DomainError as exc:
        return _refused(request, organizer, event, "clone", exc, form)
    return redirect(f"/control/{organizer}/{slug}/event/", "The copy is created as a draft, with the products, quotas and settings; no orders.")
