"""Outgoing webhooks of the organizer: subscriptions, their delivery log, redelivery."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, checked, field_errors, page, text
from boxoffice.web.templating import render
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.rules import EVENT_TYPES

router = APIRouter()
HOOKS = "/{organizer}/{event}/webhooks/"
DELIVERIES_SHOWN = 100


def _list_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None,
    values: Mapping[str, object] | None = None, status_code: int = 200,
) -> Response:
    endpoints = session.execute(webhooks.endpoints_query(panel.organizer.id)).scalars().all()
    context = {
        "panel": panel, "endpoints": endpoints, "event_types": EVENT_TYPES, "values": values or {},
        "error": error, "errors": field_errors(error),
    }
    return render(request, "control/webhooks.html", context, status_code=status_code)


@router.get(HOOKS)
@page
def endpoints(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _list_page(request, session, open_panel(request, session, organizer, event, "webhooks"))


@router.post(HOOKS)
@page
def create(request: Request, organizer: str, event: str, form: Form) -> Response:
    chosen = [t for t in EVENT_TYPES if checked(form, f"type-{t}")]
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "webhooks", admin=True)
            endpoint = webhooks.create_endpoint(
                session, panel.organizer.id, url=text(form, "url"), event_types=chosen,
                description=text(form, "description") or None,
            )
            secret = endpoint.secret
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "webhooks")
            values = {"url": text(form, "url"), "description": text(form, "description"), "types": chosen}
            return _list_page(request, session, panel, error=exc, values=values, status_code=exc.status)
    # Shown once, as the API does: keep it to verify the Boxoffice-Signature header of each delivery.
    return redirect(f"/control/{organizer}/{event}/webhooks/",
                    f"Webhook added. Its signing secret (shown only now): {secret}")


@router.post(HOOKS + "{endpoint_id}/toggle")
@page
def toggle(request: Request, organizer: str, event: str, endpoint_id: int, form: Form) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "webhooks", admin=True)
        endpoint = webhooks.get_endpoint(session, endpoint_id, panel.organizer.id)
        webhooks.update_endpoint(session, endpoint.id, panel.organizer.id, {"enabled": not endpoint.enabled})
        state = "enabled" if endpoint.enabled else "disabled"
    return redirect(f"/control/{organizer}/{event}/webhooks/", f"The webhook to {endpoint.url} is {state}.")


@router.get(HOOKS + "{endpoint_id}/")
@page
def deliveries(request: Request, organizer: str, event: str, endpoint_id: int) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "webhooks")
        endpoint = webhooks.get_endpoint(session, endpoint_id, panel.organizer.id)
        shown = session.execute(webhooks.deliveries_query(endpoint.id).limit(DELIVERIES_SHOWN)).scalars().all()
        context = {"panel": panel, "endpoint": endpoint, "deliveries": shown}
        return render(request, "control/deliveries.html", context)


@router.post(HOOKS + "{endpoint_id}/deliveries/{delivery_id}/redeliver")
@page
def redeliver(request: Request, organizer: str, event: str, endpoint_id: int, delivery_id: int, form: Form) -> Response:
    target = f"/control/{organizer}/{event}/webhooks/{endpoint_id}/"
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "webhooks", admin=True)
            delivery = webhooks.get_delivery(session, delivery_id, panel.organizer.id)
            webhooks.redeliver(session, delivery.id, panel.organizer.id)
    except DomainError as exc:
        return redirect(target, f"Not sent again: {exc.detail}")
    return redirect(target, f"Delivery {delivery_id} is queued to be sent again.")
