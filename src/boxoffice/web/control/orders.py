"""The orders list (the API's filters, paginated) and the order detail with its timeline and actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.catalogue.models import Product
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError
from boxoffice.kit.money import parse_amount
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.payments.refunding import propose
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.control.queries import ORDER_STATUSES, PAYMENT_STATES, OrderFilter, list_orders
from boxoffice.web.http import field_errors, page
from boxoffice.web.orderview import find_order, order_path, order_view
from boxoffice.web.templating import render

router = APIRouter()
ORDERS = "/{organizer}/{event}/orders/"
REFUND_PREVIEW = "refund"


@router.get(ORDERS)
@page
def order_list(request: Request, organizer: str, event: str) -> Response:
    params = request.query_params
    filters = OrderFilter(
        status=params.get("status", ""),
        payment_state=params.get("payment_state", ""),
        open_refund=params.get("open_refund") == "on",
        search=params.get("q", "").strip(),
    )
    number = int(params["page"]) if params.get("page", "").isdigit() else 1
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "orders")
        result = list_orders(session, panel.event.id, filters, number)
        query = urlencode([(k, v) for k, v in params.multi_items() if k != "page"])
        context = {
            "panel": panel, "page": result, "filters": filters, "query": query,
            "statuses": ORDER_STATUSES, "payment_states": PAYMENT_STATES,
        }
        return render(request, "control/orders.html", context)


def _proposal(session: Session, order: Order, raw: str | None) -> dict[str, Any] | None:
    """The refund split the organizer previews (``?refund=<amount>``): which payments, how much each."""
    if not raw:
        return None
    try:
        amount = parse_amount(raw, order.currency, pointer="amount", allow_zero=False)
    except DomainError as exc:
        return {"error": exc.detail, "amount": raw}
    parts = propose(session, order.id, amount)
    by_id = {p.id: p for p in order.payments}
    automatic = sum((part for _, part in parts), Decimal(0))
    return {
        "amount": amount,
        "parts": [(by_id[pid], part) for pid, part in parts],
        "manual": amount - automatic,
    }


def detail_page(
    request: Request, session: Session, panel: Panel, code: str, *,
    error: DomainError | None = None, action: str | None = None, status_code: int = 200,
) -> Response:
    """The order detail; ``error`` is shown in the form of ``action`` (nothing was changed)."""
    order = find_order(session, panel.event, code)
    timeline = session.execute(
        select(AuditEntry).where(AuditEntry.order_id == order.id).order_by(AuditEntry.id.desc())
    ).scalars().all()
    products = session.execute(
        select(Product).where(Product.event_id == panel.event.id, Product.active.is_(True)).order_by(Product.position, Product.id)
    ).scalars().all()
    context = {
        "panel": panel, "order": order, "view": order_view(session, order, organizer=True), "timeline": timeline,
        "products": products, "proposal": _proposal(session, order, request.query_params.get(REFUND_PREVIEW)),
        "buyer_link": order_path(order), "error": error, "errors": field_errors(error), "action": action,
        "suggested_refund": _suggested_refund(order),
    }
    return render(request, "control/order.html", context, status_code=status_code)


def _suggested_refund(order: Order) -> Decimal:
    """What a refund would most likely give back: what is owed back, else everything paid."""
    net = order.payment_total - order.refund_total
    return -order.pending_sum if order.pending_sum < 0 else max(net, Decimal(0))


@router.get(ORDERS + "{code}/")
@page
def order_detail(request: Request, organizer: str, event: str, code: str) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "orders")
        return detail_page(request, session, panel, code)
