"""``GET /``: the way in for an organizer (the control panel) and for buyers (the shops of coming events)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.catalogue.models import Event
from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.web.http import page
from boxoffice.web.templating import render

router = APIRouter(include_in_schema=False)

LISTED_EVENTS = 50


@router.get("/")
@page
def home(request: Request) -> Response:
    """The control panel's link, the coming events' shops, and where the API is described."""
    # An event stays listed for a day after it ended, so its shop is still easy to find that evening.
    recent = now() - timedelta(days=1)
    with unit_of_work() as session:
        events = session.scalars(
            select(Event)
            .options(joinedload(Event.organizer))
            .where(or_(Event.date_to.is_(None), Event.date_to >= recent))
            .order_by(Event.date_from.is_(None), Event.date_from, Event.id)
            .limit(LISTED_EVENTS)
        ).all()
        return render(request, "home.html", {"events": events})
