"""Event settings: payment providers on/off with their settings forms, and the expiry and payment policies."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.catalogue.service import update_event
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, NotFound
from boxoffice.providers.registry import IMPLICIT, provider_classes
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.control.settingsform import (
    CHANGE_UNDERPAID,
    LATE_POLICIES,
    policy_values,
    provider_fields,
    read_policies,
    read_provider_form,
)
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, field_errors, page
from boxoffice.web.templating import render

router = APIRouter()
SETTINGS = "/{organizer}/{event}/settings/"


def _settings_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None, form_id: str | None = None,
    status_code: int = 200,
) -> Response:
    event = panel.event
    providers = [
        (ident, cls, provider_fields(cls, (event.payment_providers or {}).get(ident) or {}))
        for ident, cls in provider_classes().items() if ident != IMPLICIT
    ]
    context = {
        "panel": panel, "providers": providers, "policies": policy_values(event.settings or {}, event.timezone),
        "late_policies": LATE_POLICIES, "change_policies": CHANGE_UNDERPAID,
        "error": error, "errors": field_errors(error), "form_id": form_id,
    }
    return render(request, "control/settings.html", context, status_code=status_code)


@router.get(SETTINGS)
@page
def settings_page(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _settings_page(request, session, open_panel(request, session, organizer, event, "settings", admin=True))


@router.post(SETTINGS + "providers/{identifier}")
@page
def save_provider(request: Request, organizer: str, event: str, identifier: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "settings", admin=True)
            cls = provider_classes().get(identifier)
            if cls is None or identifier == IMPLICIT:
                raise NotFound(f"'{identifier}' is not a configurable payment provider.")
            raw = read_provider_form(cls, form, f"{identifier}-")
            update_event(session, panel.event, {"payment_providers": {identifier: raw}}, actor=panel.principal.actor)
            name = cls.verbose_name
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "settings")
            return _settings_page(request, session, panel, error=exc, form_id=f"provider-{identifier}",
                                  status_code=exc.status)
    return redirect(f"/control/{organizer}/{event}/settings/#provider-{identifier}", f"{name}: settings saved.")


@router.post(SETTINGS + "policies")
@page
def save_policies(request: Request, organizer: str, event: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "settings", admin=True)
            current = dict(panel.event.settings or {})
            wanted = read_policies(form, current, panel.event.timezone)
            # Only what changed, and null for what the form removed: the same merge as the API's PATCH.
            changes = {k: wanted.get(k) for k in {*current, *wanted} if wanted.get(k) != current.get(k)}
            update_event(session, panel.event, {"settings": changes}, actor=panel.principal.actor)
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "settings")
            return _settings_page(request, session, panel, error=exc, form_id="policies", status_code=exc.status)
    return redirect(f"/control/{organizer}/{event}/settings/#policies", "Expiry and payment policies saved.")
