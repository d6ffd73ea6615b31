"""The data shredder of an event: what it will remove, a download of that first, then the shred job."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from boxoffice.books.personal import personal_data_download
from boxoffice.books.shred import JOB_KIND, shred_plan, start_shred
from boxoffice.db import session_factory, unit_of_work
from boxoffice.errors import DomainError, InvalidValue
from boxoffice.jobs.models import Job
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, checked, field_errors, page, text
from boxoffice.web.templating import render

router = APIRouter()
SHREDDER = "/{organizer}/{event}/shredder/"


def _shredder_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None, status_code: int = 200
) -> Response:
    force = request.query_params.get("force") == "on"
    try:
        plan, refusal = shred_plan(session, panel.event.id, include_orders=True, force=force), None
    except DomainError as exc:
        plan, refusal = None, exc.detail
    jobs = session.execute(
        select(Job).where(Job.kind == JOB_KIND, Job.event_id == panel.event.id).order_by(Job.id.desc()).limit(10)
    ).scalars().all()
    context = {
        "panel": panel, "plan": plan, "refusal": refusal, "force": force, "jobs": jobs,
        "error": error, "errors": field_errors(error),
    }
    return render(request, "control/shredder.html", context, status_code=status_code)


@router.get(SHREDDER)
@page
def shredder(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _shredder_page(request, session, open_panel(request, session, organizer, event, "shredder"))


@router.get(SHREDDER + "download")
@page
def download(request: Request, organizer: str, event: str) -> Response:
    """Everything the shred would remove, as a ZIP, to keep before erasing it (admins only)."""
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "shredder", admin=True)
        event_id = panel.event.id
    name, chunks = personal_data_download(
        session_factory(), event_id, include_orders=request.query_params.get("include_orders") == "on"
    )
    return StreamingResponse(
        chunks, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post(SHREDDER)
@page
def shred(request: Request, organizer: str, event: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "shredder", admin=True)
            if text(form, "confirm") != panel.event.slug:
                raise InvalidValue(f"Type the event's short name '{panel.event.slug}' to confirm.", pointer="confirm")
            job = start_shred(
                session, panel.event.id, include_orders=checked(form, "include_orders"), force=checked(form, "force"),
                actor=panel.principal.actor,
            )
            job_id = job.id
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "shredder")
            return _shredder_page(request, session, panel, error=exc, status_code=exc.status)
    return redirect(f"/control/{organizer}/{event}/shredder/", f"The shred runs as job {job_id}; its progress shows below.")
