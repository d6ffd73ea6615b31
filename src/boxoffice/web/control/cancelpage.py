"""Cancelling the whole event: a preview of what it cancels and refunds, the job, its progress and result."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Select, select
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api.fields import money
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, InvalidValue, NotFound
from boxoffice.jobs.models import Job
from boxoffice.orders import bulk
from boxoffice.orders.cancellation import FeeRule
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, checked, field_errors, page, text
from boxoffice.web.templating import render

router = APIRouter()
CANCEL = "/{organizer}/{event}/cancel/"
CONFIRM_WORD = "CANCEL"


def _fee_rule(values: Mapping[str, Any], currency: str) -> FeeRule:
    """The fee the form asks for: an amount and a percentage, both optional (the API's two attributes)."""
    fee = str(values.get("cancellation-fee") or "").strip()
    percent = str(values.get("cancellation-fee-percent") or "").strip()
    absolute = money(fee, currency, pointer="/data/attributes/cancellation-fee") if fee else None
    try:
        share = Decimal(percent) if percent else None
    except ArithmeticError:
        raise InvalidValue("Enter a percentage such as 10.", pointer="/data/attributes/cancellation-fee-percent") from None
    return FeeRule.parse(absolute, share)


def _jobs(panel: Panel) -> Select[Job]:
    return (
        select(Job).where(Job.event_id == panel.event.id, Job.kind == bulk.KIND).order_by(Job.id.desc()).limit(10)
    )


@router.get(CANCEL)
@page
def cancel_page(request: Request, organizer: str, event: str) -> Response:
    """The preview follows the fee the organizer enters (``?cancellation-fee=…``)."""
    values = dict(request.query_params)
    error: DomainError | None = None
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "cancel", admin=True)
        refund = values.get("refund", "on") == "on"
        try:
            rule = _fee_rule(values, panel.event.currency)
        except DomainError as exc:
            error, rule = exc, FeeRule()
        count, back = bulk.preview_event_cancellation(session, panel.event.id, fee_rule=rule, refund=refund)
        jobs = session.execute(_jobs(panel)).scalars().all()
        context = {
            "panel": panel, "count": count, "back": back, "values": values, "refund": refund, "jobs": jobs,
            "error": error, "errors": field_errors(error), "confirm_word": CONFIRM_WORD,
        }
        return render(request, "control/cancel.html", context, status_code=error.status if error else 200)


@router.post(CANCEL)
@page
def start(request: Request, organizer: str, event: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "cancel", admin=True)
            if text(form, "confirm") != CONFIRM_WORD:
                raise InvalidValue(f"Type {CONFIRM_WORD} to confirm.", pointer="confirm")
            job = bulk.start_event_cancellation(
                session, panel.event.id, actor=panel.principal.actor,
                fee_rule=_fee_rule(form, panel.event.currency), refund=checked(form, "refund"),
            )
            job_id = job.id
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "cancel", admin=True)
            count, back = bulk.preview_event_cancellation(session, panel.event.id)
            jobs = session.execute(_jobs(panel)).scalars().all()
            context = {
                "panel": panel, "count": count, "back": back, "values": dict(form), "refund": checked(form, "refund"),
                "jobs": jobs, "error": exc, "errors": field_errors(exc), "confirm_word": CONFIRM_WORD,
            }
            return render(request, "control/cancel.html", context, status_code=exc.status)
    return redirect(f"/control/{organizer}/{event}/cancel/{job_id}/", "The cancellation has started.")


@router.get(CANCEL + "{job_id}/")
@page
def progress(request: Request, organizer: str, event: str, job_id: int) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "cancel", admin=True)
        job = session.get(Job, job_id)
        if job is None or job.event_id != panel.event.id or job.kind != bulk.KIND:
            raise NotFound(f"Job {job_id} does not exist.", parameter="job")
        return render(request, "control/cancel_job.html", {"panel": panel, "job": job})
