"""The event's dashboard: warnings with counts and links, sales and payments over time, exports."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from boxoffice.books.exports import KINDS, export_stream, file_name, media_type
from boxoffice.books.writers import FORMATS
from boxoffice.db import session_factory, unit_of_work
from boxoffice.tickets.repository import checkin_figures
from boxoffice.web.control.chart import Series, bar_chart
from boxoffice.web.control.figures import product_figures, quota_figures
from boxoffice.web.control.panel import open_panel
from boxoffice.web.control.queries import daily_totals, stuck_attempts, warnings
from boxoffice.web.http import page
from boxoffice.web.templating import render

router = APIRouter()
EVENT = "/{organizer}/{event}/"


@router.get(EVENT)
@page
def dashboard(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "dashboard")
        totals = daily_totals(session, panel.event)
        currency = panel.event.currency
        chart = bar_chart(
            f"Sales and payments per day, last {len(totals.days)} days ({currency})",
            totals.days,
            [
                Series("Orders placed", totals.sales, "#1f5fbf"),
                Series("Payments received", totals.payments, "#1d6b36"),
                Series("Refunds done", totals.refunds, "#b3261e"),
            ],
            currency,
        )
        sales = product_figures(session, panel.event)
        # Out of test mode the check-in's valid tickets are the tickets sold: counted once, not twice.
        valid = None if panel.event.test_mode else {figures.product.id: figures.sold for figures in sales}
        context = {
            "panel": panel, "warnings": warnings(session, panel.event, panel.base), "chart": chart,
            "totals": totals, "stuck": stuck_attempts(session, panel.event),
            "export_kinds": list(KINDS), "export_formats": list(FORMATS),
            "checkin": checkin_figures(session, panel.event, valid),
            "sales": sales, "seats": quota_figures(session, panel.event),
        }
        return render(request, "control/dashboard.html", context)


@router.get(EVENT + "export/{kind}.{fmt}")
@page
def export(request: Request, organizer: str, event: str, kind: str, fmt: str) -> Response:
    """Download one of the books' exports of this event (streamed)."""
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "dashboard")
        event_id, org_slug, event_slug = panel.event.id, panel.organizer.slug, panel.event.slug
    chunks = export_stream(session_factory(), event_id, kind, fmt)
    return StreamingResponse(
        chunks,
        media_type=media_type(fmt),
        headers={"Content-Disposition": f'attachment; filename="{file_name(org_slug, event_slug, kind, fmt)}"'},
    )
