"""Products and quotas of an event: create, edit, reorder, deactivate, delete; quota sizes and products."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.catalogue import service as catalogue
from boxoffice.catalogue.models import Product, Quota
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, InvalidValue, NotFound
from boxoffice.web.control.catalogueforms import chosen_ids, price, product_changes, whole_or_none
from boxoffice.web.control.figures import ordered_products, product_figures, quota_figures
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, field_errors, page, text
from boxoffice.web.templating import amount, local_input, render

router = APIRouter()
PRODUCTS = "/{organizer}/{event}/products/"
QUOTAS = "/{organizer}/{event}/quotas/"


def _quotas(session: Session, panel: Panel) -> list[Quota]:
    return list(session.execute(select(Quota).where(Quota.event_id == panel.event.id).order_by(Quota.name)).scalars())


def _products(session: Session, panel: Panel) -> list[Product]:
    return list(
        session.execute(
            select(Product).where(Product.event_id == panel.event.id).order_by(Product.position, Product.id)
        ).scalars()
    )


def _product(session: Session, panel: Panel, product_id: int) -> Product:
    found = session.execute(
        select(Product).where(Product.id == product_id, Product.event_id == panel.event.id)
        .options(selectinload(Product.quotas))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"Product {product_id} does not exist.", parameter="product")
    return found


def _quota(session: Session, panel: Panel, quota_id: int) -> Quota:
    found = session.execute(
        select(Quota).where(Quota.id == quota_id, Quota.event_id == panel.event.id).options(selectinload(Quota.products))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"Quota {quota_id} does not exist.", parameter="quota")
    return found


def _product_values(product: Product, timezone: str, currency: str) -> dict[str, Any]:
    return {
        "name": product.name, "price": amount(product.price, currency), "description": product.description,
        "active": "on" if product.active else "", "available-from": local_input(product.available_from, timezone),
        "available-until": local_input(product.available_until, timezone),
        "max-per-order": product.max_per_order or "", "quotas": [q.id for q in product.quotas],
    }


def _form_values(form: Form) -> dict[str, Any]:
    return {**dict(form), "quotas": chosen_ids(form, "quota-"), "products": chosen_ids(form, "product-")}


# -- products --------------------------------------------------------------------------------------


def _products_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None,
    values: Mapping[str, Any] | None = None, status_code: int = 200,
) -> Response:
    context = {
        "panel": panel, "figures": product_figures(session, panel.event), "quotas": _quotas(session, panel),
        "ordered": ordered_products(session, panel.event), "values": values or {"active": "on", "quotas": []},
        "error": error, "errors": field_errors(error),
    }
    return render(request, "control/products.html", context, status_code=status_code)


@router.get(PRODUCTS)
@page
def products(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _products_page(request, session, open_panel(request, session, organizer, event, "products", admin=True))


@router.post(PRODUCTS)
@page
def create_product(request: Request, organizer: str, event: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "products", admin=True)
            details = product_changes(form, panel.event.timezone)
            quotas = [_quota(session, panel, i) for i in chosen_ids(form, "quota-")]
            details["position"] = len(_products(session, panel))
            catalogue.create_product(
                session, panel.event, name=details.pop("name"), price=price(form, panel.event.currency),
                quotas=quotas, details=details, actor=panel.principal.actor,
            )
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "products", admin=True)
            return _products_page(request, session, panel, error=exc, values=_form_values(form), status_code=exc.status)
    return redirect(f"/control/{organizer}/{event}/products/", f"{text(form, 'name')} is added.")


def _product_page(
    request: Request, session: Session, panel: Panel, product: Product, *, error: DomainError | None = None,
    values: Mapping[str, Any] | None = None, status_code: int = 200,
) -> Response:
    context = {
        "panel": panel, "product": product, "quotas": _quotas(session, panel),
        "ordered": product.id in ordered_products(session, panel.event),
        "values": values or _product_values(product, panel.event.timezone, panel.event.currency), "error": error,
        "errors": field_errors(error),
    }
    return render(request, "control/product.html", context, status_code=status_code)


@router.get(PRODUCTS + "{product_id}/")
@page
def product_page(request: Request, organizer: str, event: str, product_id: int) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "products", admin=True)
        return _product_page(request, session, panel, _product(session, panel, product_id))


@router.post(PRODUCTS + "{product_id}/")
@page
def save_product(request: Request, organizer: str, event: str, product_id: int, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "products", admin=True)
            product = _product(session, panel, product_id)
            changes = product_changes(form, panel.event.timezone)
            changes["price"] = price(form, panel.event.currency)
            changes["quotas"] = [_quota(session, panel, i) for i in chosen_ids(form, "quota-")]
            catalogue.update_product(session, product, panel.event, changes, actor=panel.principal.actor)
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "products", admin=True)
            product = _product(session, panel, product_id)
            return _product_page(
                request, session, panel, product, error=exc, values=_form_values(form), status_code=exc.status
            )
    return redirect(f"/control/{organizer}/{event}/products/", f"{text(form, 'name')} is saved.")


@router.post(PRODUCTS + "{product_id}/move")
@page
def move_product(request: Request, organizer: str, event: str, product_id: int, form: Form) -> Response:
    """One place up or down in the shop."""
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "products", admin=True)
        ids = [p.id for p in _products(session, panel)]
        if product_id not in ids:
            raise NotFound(f"Product {product_id} does not exist.", parameter="product")
        index = ids.index(product_id)
        step = {"up": -1, "down": 1}.get(text(form, "direction"))
        if step is None:
            raise InvalidValue("Move a product up or down.", pointer="direction")
        other = index + step
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            catalogue.reorder_products(session, panel.event, ids, actor=panel.principal.actor)
    return redirect(f"/control/{organizer}/{event}/products/#product-{product_id}")


@router.post(PRODUCTS + "{product_id}/delete")
@page
def delete_product(request: Request, organizer: str, event: str, product_id: int, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "products", admin=True)
            product = _product(session, panel, product_id)
            name = product.name
            catalogue.delete_product(session, product, panel.event, actor=panel.principal.actor)
    except DomainError as exc:
        return redirect(f"/control/{organizer}/{event}/products/{product_id}/", f"Not deleted: {exc.detail}")
    return redirect(f"/control/{organizer}/{event}/products/", f"{name} is deleted.")


# -- quotas ----------------------------------------------------------------------------------------


def _size(form: Form) -> int | None:
    """The size field: empty means unlimited."""
    return whole_or_none(form, "size")


def _quotas_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None,
    values: Mapping[str, Any] | None = None, status_code: int = 200,
) -> Response:
    context = {
        "panel": panel, "figures": quota_figures(session, panel.event), "products": _products(session, panel),
        "values": values or {"products": []}, "error": error, "errors": field_errors(error),
    }
    return render(request, "control/quotas.html", context, status_code=status_code)


@router.get(QUOTAS)
@page
def quotas(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _quotas_page(request, session, open_panel(request, session, organizer, event, "quotas", admin=True))


@router.post(QUOTAS)
@page
def create_quota(request: Request, organizer: str, event: str, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "quotas", admin=True)
            chosen = [_product(session, panel, i) for i in chosen_ids(form, "product-")]
            catalogue.create_quota(
                session, panel.event, name=text(form, "name"), size=_size(form), products=chosen,
                actor=panel.principal.actor,
            )
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "quotas", admin=True)
            return _quotas_page(request, session, panel, error=exc, values=_form_values(form), status_code=exc.status)
    return redirect(f"/control/{organizer}/{event}/quotas/", f"Quota {text(form, 'name')} is added.")


def _quota_page(
    request: Request, session: Session, panel: Panel, quota: Quota, *, error: DomainError | None = None,
    values: Mapping[str, Any] | None = None, status_code: int = 200,
) -> Response:
    figures = next(f for f in quota_figures(session, panel.event) if f.quota.id == quota.id)
    context = {
        "panel": panel, "quota": quota, "figures": figures, "products": _products(session, panel),
        "values": values or {"name": quota.name, "size": "" if quota.size is None else quota.size,
                             "products": [p.id for p in quota.products]},
        "error": error, "errors": field_errors(error),
    }
    return render(request, "control/quota.html", context, status_code=status_code)


@router.get(QUOTAS + "{quota_id}/")
@page
def quota_page(request: Request, organizer: str, event: str, quota_id: int) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "quotas", admin=True)
        return _quota_page(request, session, panel, _quota(session, panel, quota_id))


@router.post(QUOTAS + "{quota_id}/")
@page
def save_quota(request: Request, organizer: str, event: str, quota_id: int, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "quotas", admin=True)
            quota = _quota(session, panel, quota_id)
            changes = {
                "name": text(form, "name"), "size": _size(form),
                "products": [_product(session, panel, i) for i in chosen_ids(form, "product-")],
            }
            catalogue.change_quota(session, quota, panel.event, changes, actor=panel.principal.actor)
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "quotas", admin=True)
            quota = _quota(session, panel, quota_id)
            return _quota_page(request, session, panel, quota, error=exc, values=_form_values(form),
                               status_code=exc.status)
    return redirect(f"/control/{organizer}/{event}/quotas/", f"Quota {text(form, 'name')} is saved.")
