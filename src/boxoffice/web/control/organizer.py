"""The organizer's own pages: its events (list, create), its team and API tokens, its activity log."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.accounts import service as accounts
from boxoffice.accounts.models import ROLES, ApiToken, Membership
from boxoffice.activity.models import ActivityEntry
from boxoffice.catalogue import service as catalogue
from boxoffice.catalogue.models import Event
from boxoffice.catalogue.rules import life_state, slugify
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError
from boxoffice.kit.currencies import currency_names
from boxoffice.web.control.catalogueforms import event_details
from boxoffice.web.control.panel import OrganizerPanel, open_organizer
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, field_errors, page, text
from boxoffice.web.templating import render

router = APIRouter()
ORG = "/{organizer}/"
ACTIVITY_SHOWN = 200


def _events_page(
    request: Request, session: Session, panel: OrganizerPanel, *, error: DomainError | None = None,
    values: Mapping[str, object] | None = None, status_code: int = 200,
) -> Response:
    events = session.execute(
        select(Event).where(Event.organizer_id == panel.organizer.id).order_by(Event.date_from, Event.name)
    ).scalars().all()
    context = {
        "panel": panel, "events": [(e, life_state(live=e.live, test_mode=e.test_mode)) for e in events],
        "currencies": currency_names(), "values": values or {"currency": "EUR", "timezone": "UTC"},
        "error": error, "errors": field_errors(error),
    }
    return render(request, "control/events.html", context, status_code=status_code)


@router.get(ORG)
@page
def events(request: Request, organizer: str) -> Response:
    with unit_of_work() as session:
        return _events_page(request, session, open_organizer(request, session, organizer, "events"))


@router.post(ORG + "events")
@page
def create_event(request: Request, organizer: str, form: Form) -> Response:
    """A new event starts as a draft: its shop sells nothing until it is put in test mode or live."""
    try:
        with unit_of_work() as session:
            panel = open_organizer(request, session, organizer, "events", admin=True)
            details = event_details(form, text(form, "timezone") or "UTC")
            event = catalogue.create_event(
                session, panel.organizer, slug=text(form, "slug") or slugify(details["name"]), name=details["name"],
                currency=text(form, "currency"), timezone=text(form, "timezone") or "UTC", actor=panel.principal.actor,
            )
            catalogue.update_event(session, event, details, actor=panel.principal.actor)
            slug = event.slug
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_organizer(request, session, organizer, "events")
            return _events_page(request, session, panel, error=exc, values=dict(form), status_code=exc.status)
    return redirect(f"/control/{organizer}/{slug}/event/", "The event is created as a draft. Add products and quotas next.")


# -- team and API tokens -----------------------------------------------------------------------------


def _team_page(
    request: Request, session: Session, panel: OrganizerPanel, *, error: DomainError | None = None,
    form_id: str | None = None, values: Mapping[str, object] | None = None, status_code: int = 200,
) -> Response:
    members = session.execute(
        select(Membership).where(Membership.organizer_id == panel.organizer.id).order_by(Membership.id)
    ).scalars().all()
    tokens = session.execute(
        select(ApiToken).where(ApiToken.organizer_id == panel.organizer.id).order_by(ApiToken.id.desc())
    ).scalars().all()
    context = {
        "panel": panel, "members": [(m, m.user.email) for m in members], "tokens": tokens, "roles": ROLES,
        "error": error, "errors": field_errors(error), "form_id": form_id, "values": values or {},
    }
    return render(request, "control/team.html", context, status_code=status_code)


@router.get(ORG + "team/")
@page
def team(request: Request, organizer: str) -> Response:
    with unit_of_work() as session:
        return _team_page(request, session, open_organizer(request, session, organizer, "team", admin=True))


def _team_form(request: Request, organizer: str, form: Form, form_id: str, exc: DomainError) -> Response:
    with unit_of_work() as session:
        panel = open_organizer(request, session, organizer, "team", admin=True)
        values = {k: v for k, v in form.items() if k != "password"}
        return _team_page(request, session, panel, error=exc, form_id=form_id, values=values, status_code=exc.status)


@router.post(ORG + "team/members")
@page
def add_member(request: Request, organizer: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_organizer(request, session, organizer, "team", admin=True)
            accounts.add_member(
                session, panel.organizer, email=text(form, "email"), role=text(form, "role"),
                password=str(form.get("password") or "") or None, actor=panel.principal.actor,
            )
    except DomainError as exc:
        return _team_form(request, organizer, form, "member", exc)
    return redirect(f"/control/{organizer}/team/", f"{text(form, 'email')} is in the team as {text(form, 'role')}.")


@router.post(ORG + "team/members/{membership_id}/remove")
@page
def remove_member(request: Request, organizer: str, membership_id: int, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_organizer(request, session, organizer, "team", admin=True)
            email = accounts.remove_membership(session, panel.organizer, membership_id, actor=panel.principal.actor)
    except DomainError as exc:
        return redirect(f"/control/{organizer}/team/", f"Not removed: {exc.detail}")
    return redirect(f"/control/{organizer}/team/", f"{email} is no longer in the team.")


@router.post(ORG + "team/tokens")
@page
def create_token(request: Request, organizer: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_organizer(request, session, organizer, "team", admin=True)
            token = accounts.create_api_token(
                session, organizer_slug=panel.organizer.slug, name=text(form, "name"), role=text(form, "role"),
                actor=panel.principal.actor,
            )
    except DomainError as exc:
        return _team_form(request, organizer, form, "token", exc)
    # Shown once: only its hash is stored.
    return redirect(f"/control/{organizer}/team/#tokens",
                    f"API token '{text(form, 'name')}' created. Copy it now, it is shown only once: {token}")


@router.post(ORG + "team/tokens/{token_id}/revoke")
@page
def revoke_token(request: Request, organizer: str, token_id: int, form: Form) -> Response:
    with unit_of_work() as session:
        panel = open_organizer(request, session, organizer, "team", admin=True)
        token = accounts.revoke_api_token(session, panel.organizer, token_id, actor=panel.principal.actor)
        name = token.name
    return redirect(f"/control/{organizer}/team/#tokens", f"API token '{name}' is revoked.")


# -- activity log ------------------------------------------------------------------------------------


@router.get(ORG + "activity/")
@page
def activity_log(request: Request, organizer: str) -> Response:
    with unit_of_work() as session:
        panel = open_organizer(request, session, organizer, "activity", admin=True)
        entries = session.execute(
            select(ActivityEntry, Event.name)
            .outerjoin(Event, Event.id == ActivityEntry.event_id)
            .where(ActivityEntry.organizer_id == panel.organizer.id)
            .order_by(ActivityEntry.id.desc())
            .limit(ACTIVITY_SHOWN)
        ).all()
        return render(request, "control/activity.html", {"panel": panel, "entries": entries})
