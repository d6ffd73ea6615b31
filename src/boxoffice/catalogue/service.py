"""Use cases of the catalogue: organizers, events, products, quotas."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from boxoffice.activity import service as activity
from boxoffice.catalogue import rules
from boxoffice.catalogue.models import Event, Organizer, Product, Quota
from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.kit.currencies import is_currency_code
from boxoffice.kit.money import normalize
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.providers.registry import public_payment_providers, validate_payment_providers

SIZE_POINTER = "/data/attributes/size"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _check_slug(slug: str, pointer: str) -> str:
    if not _SLUG.match(slug):
        raise InvalidValue("A slug is lower-case letters, digits and dashes.", pointer=pointer)
    if slug in rules.RESERVED_SLUGS:
        raise InvalidValue(f"'{slug}' is reserved; choose another slug.", pointer=pointer)
    return slug


def get_or_create_organizer(session: Session, slug: str, name: str | None = None) -> Organizer:
    organizer = session.execute(select(Organizer).where(Organizer.slug == slug)).scalar_one_or_none()
    if organizer is None:
        organizer = Organizer(slug=_check_slug(slug, "/data/attributes/slug"), name=name or slug)
        session.add(organizer)
        session.flush()
    return organizer


def organizer_by_slug(session: Session, slug: str) -> Organizer:
    organizer = session.execute(select(Organizer).where(Organizer.slug == slug)).scalar_one_or_none()
    if organizer is None:
        raise NotFound(f"Organizer '{slug}' does not exist.", parameter="organizer")
    return organizer


def organizer_slugs(session: Session) -> list[str]:
    return list(session.execute(select(Organizer.slug).order_by(Organizer.slug)).scalars())


def event_by_slug(session: Session, organizer_slug: str, event_slug: str) -> Event:
    event = session.execute(
        select(Event).join(Organizer).where(Organizer.slug == organizer_slug, Event.slug == event_slug)
    ).scalar_one_or_none()
    if event is None:
        raise NotFound(f"Event '{organizer_slug}/{event_slug}' does not exist.", parameter="event")
    return event


def create_event(
    session: Session,
    organizer: Organizer,
    *,
    slug: str,
    name: str,
    currency: str,
    timezone: str = "UTC",
    payment_providers: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    live: bool = False,
    test_mode: bool = False,
    actor: str = "system",
) -> Event:
    """A new event, a draft unless ``live``; every value checked as :func:`update_event` checks it."""
    rules.check_text(name, "name", max_length=200, required=True)
    _check_slug(slug, "/data/attributes/slug")
    _check_currency(currency)
    rules.check_timezone(timezone)
    _check_slug_free(session, organizer.id, slug)
    rules.check_test_providers(payment_providers or {}, test_mode=test_mode)
    event = Event(
        organizer_id=organizer.id,
        slug=slug,
        name=name,
        currency=currency,
        timezone=timezone,
        payment_providers=payment_providers or {},
        settings=settings or {},
        live=live,
        test_mode=test_mode,
        location="",
        description="",
    )
    event.organizer = organizer
    session.add(event)
    session.flush()
    activity.record(
        session, organizer_id=organizer.id, event_id=event.id, actor=actor, action="event.created",
        subject=f"event:{event.id}", after=event_snapshot(event),
    )
    return event


def _check_currency(currency: str) -> None:
    if not is_currency_code(currency):
        raise InvalidValue(
            f"'{currency}' is not the ISO 4217 code of a currency in use, such as EUR.", pointer="/data/attributes/currency"
        )


def _check_slug_free(session: Session, organizer_id: int, slug: str) -> None:
    taken = session.execute(select(Event.id).where(Event.organizer_id == organizer_id, Event.slug == slug)).first()
    if taken:
        raise Conflict(f"Event slug '{slug}' is taken.", pointer="/data/attributes/slug", code="slug-taken")


def event_snapshot(event: Event) -> dict[str, Any]:
    """What the activity log compares of an event (payment providers without their secrets)."""
    return {
        "name": event.name, "slug": event.slug, "currency": event.currency, "timezone": event.timezone,
        "date-from": event.date_from, "date-to": event.date_to, "location": event.location,
        "description": event.description, "live": event.live, "test-mode": event.test_mode,
        "payment-providers": public_payment_providers(event.payment_providers or {}),
        "settings": dict(event.settings or {}),
    }


def product_snapshot(product: Product) -> dict[str, Any]:
    return {
        "name": product.name, "price": product.price, "description": product.description,
        "active": product.active, "position": product.position, "available-from": product.available_from,
        "available-until": product.available_until, "max-per-order": product.max_per_order,
        "quotas": sorted(q.id for q in product.quotas),
    }


def quota_snapshot(quota: Quota) -> dict[str, Any]:
    return {"name": quota.name, "size": quota.size, "products": sorted(p.id for p in quota.products)}


def create_quota(
    session: Session, event: Event, *, name: str, size: int | None, products: Sequence[Product] = (),
    actor: str = "system",
) -> Quota:
    rules.check_text(name, "name", max_length=200, required=True)
    if size is not None and size < 0:
        raise InvalidValue("A quota size is zero or more (or null for unlimited).", pointer=SIZE_POINTER)
    quota = Quota(event_id=event.id, name=name, size=size, used=0)
    session.add(quota)
    session.flush()
    if products:
        _assign(session, quota, event, products)
    activity.record(
        session, organizer_id=event.organizer_id, event_id=event.id, actor=actor, action="quota.created",
        subject=f"quota:{quota.id}", after=quota_snapshot(quota),
    )
    return quota


def create_product(
    session: Session,
    event: Event,
    *,
    name: str,
    price: Decimal,
    quotas: Sequence[Quota] = (),
    details: Mapping[str, Any] | None = None,
    actor: str = "system",
) -> Product:
    """A new product; ``details`` are the optional fields :func:`update_product` takes
    (``description``, ``active``, ``position``, ``available_from``, ``available_until``, ``max_per_order``)."""
    rules.check_text(name, "name", max_length=200, required=True)
    if price < 0:
        raise InvalidValue("A price is zero or more.", pointer="/data/attributes/price")
    product = Product(event_id=event.id, name=name, price=_price(price, event.currency), description="")
    for quota in quotas:
        if quota.event_id != event.id:
            raise InvalidValue("A product's quotas belong to its event.", pointer="/data/relationships/quotas")
        product.quotas.append(quota)
    session.add(product)
    session.flush()
    if details:
        _apply_product(session, product, event, details)
    activity.record(
        session, organizer_id=event.organizer_id, event_id=event.id, actor=actor, action="product.created",
        subject=f"product:{product.id}", after=product_snapshot(product),
    )
    return product


def _price(price: Decimal, currency: str) -> Decimal:
    try:
        return normalize(price, currency)
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, pointer="/data/attributes/price", code="too-precise") from exc


def _seats_held(session: Session, product_id: int) -> bool:
    """Whether live positions of pending or paid orders hold seats of this product's quotas."""
    return (
        session.execute(
            select(OrderPosition.id)
            .join(Order, Order.id == OrderPosition.order_id)
            .where(OrderPosition.product_id == product_id, OrderPosition.canceled.is_(False), Order.holds_quota.is_(True))
            .limit(1)
        ).first()
        is not None
    )


def _has_orders(session: Session, event_id: int) -> bool:
    return session.execute(select(Order.id).where(Order.event_id == event_id).limit(1)).first() is not None


def update_event(session: Session, event: Event, changes: Mapping[str, Any], *, actor: str = "system") -> Event:
    """Apply a partial change of ``event`` (keys: ``name``, ``slug``, ``currency``, ``timezone``,
    ``date_from``, ``date_to``, ``location``, ``description``, ``live``, ``test_mode``,
    ``payment_providers``, ``settings``), checking every value; the change goes to the activity log.

    ``payment_providers`` changes only the providers it names (secrets left out are kept);
    ``settings`` changes only the settings it names (null removes one). The currency is fixed once
    the event has orders. Test-only providers (sandbox) stay enabled only in test mode.
    """
    before = event_snapshot(event)
    if "currency" in changes and changes["currency"] != event.currency:
        currency = changes["currency"]
        _check_currency(currency)
        if _has_orders(session, event.id):
            raise Conflict(
                "The currency of an event with orders cannot change.",
                pointer="/data/attributes/currency",
                code="currency-locked",
            )
        event.currency = currency
    if "slug" in changes and changes["slug"] != event.slug:
        slug = _check_slug(changes["slug"], "/data/attributes/slug")
        _check_slug_free(session, event.organizer_id, slug)
        event.slug = slug
    if "name" in changes:
        event.name = rules.check_text(changes["name"], "name", max_length=200, required=True)
    if "location" in changes:
        event.location = rules.check_text(changes["location"] or "", "location", max_length=500)
    if "description" in changes:
        event.description = rules.check_text(changes["description"] or "", "description", max_length=20_000)
    for key in ("date_from", "date_to", "live", "test_mode"):
        if key in changes:
            setattr(event, key, changes[key])
    if "timezone" in changes:
        event.timezone = rules.check_timezone(changes["timezone"])
    rules.check_dates(event.date_from, event.date_to, "/data/attributes/date-to")
    if "payment_providers" in changes:
        event.payment_providers = validate_payment_providers(
            changes["payment_providers"], current=event.payment_providers, currency=event.currency
        )
    rules.check_test_providers(event.payment_providers or {}, test_mode=event.test_mode)
    if "settings" in changes:
        event.settings = rules.merge_settings(event.settings or {}, changes["settings"], event.currency)
    session.flush()
    activity.record(
        session, organizer_id=event.organizer_id, event_id=event.id, actor=actor, action="event.changed",
        subject=f"event:{event.id}", before=before, after=event_snapshot(event),
    )
    return event


def clone_event(session: Session, source: Event, *, slug: str, name: str, actor: str = "system") -> Event:
    """A draft copy of ``source`` (details, settings, payment providers, products, quotas); no orders."""
    clone = create_event(
        session, source.organizer, slug=slug, name=name, currency=source.currency, timezone=source.timezone,
        payment_providers=dict(source.payment_providers or {}), settings=dict(source.settings or {}),
        test_mode=source.test_mode, actor=actor,
    )
    clone.date_from, clone.date_to = source.date_from, source.date_to
    clone.location, clone.description = source.location, source.description
    quotas = {
        q.id: Quota(event_id=clone.id, name=q.name, size=q.size, used=0)
        for q in session.execute(select(Quota).where(Quota.event_id == source.id).order_by(Quota.id)).scalars()
    }
    session.add_all(quotas.values())
    products = session.execute(
        select(Product).where(Product.event_id == source.id).order_by(Product.position, Product.id)
        .options(selectinload(Product.quotas))
    ).scalars()
    for p in products:
        session.add(Product(
            event_id=clone.id, name=p.name, price=p.price, description=p.description, active=p.active,
            position=p.position, available_from=p.available_from, available_until=p.available_until,
            max_per_order=p.max_per_order, quotas=[quotas[q.id] for q in p.quotas],
        ))
    session.flush()
    activity.record(
        session, organizer_id=source.organizer_id, event_id=clone.id, actor=actor, action="event.cloned",
        subject=f"event:{clone.id}", after={"from": f"{source.organizer.slug}/{source.slug}"},
    )
    return clone


def _apply_product(session: Session, product: Product, event: Event, changes: Mapping[str, Any]) -> None:
    if "name" in changes:
        product.name = rules.check_text(changes["name"], "name", max_length=200, required=True)
    if "price" in changes:
        price = changes["price"]
        if price < 0:
            raise InvalidValue("A price is zero or more.", pointer="/data/attributes/price")
        product.price = _price(price, event.currency)
    for key in ("active", "position", "available_from", "available_until"):
        if key in changes:
            setattr(product, key, changes[key])
    if "description" in changes:
        product.description = rules.check_text(changes["description"] or "", "description", max_length=20_000)
    if "max_per_order" in changes:
        product.max_per_order = rules.check_max_per_order(changes["max_per_order"])
    rules.check_dates(product.available_from, product.available_until, "/data/attributes/available-until")
    if "quotas" in changes:
        quotas: Sequence[Quota] = changes["quotas"]
        if {q.id for q in quotas} != {q.id for q in product.quotas}:
            _check_no_seats(session, product)
            for quota in quotas:
                if quota.event_id != event.id:
                    raise InvalidValue("A product's quotas belong to its event.", pointer="/data/relationships/quotas")
            product.quotas = list(quotas)
    session.flush()


def _check_no_seats(session: Session, product: Product) -> None:
    if _seats_held(session, product.id):
        raise Conflict(
            f"Orders hold seats of {product.name} in its quotas; its quotas cannot change now.",
            pointer="/data/relationships/quotas",
            code="product-has-orders",
        )


def update_product(
    session: Session, product: Product, event: Event, changes: Mapping[str, Any], *, actor: str = "system"
) -> Product:
    """Apply a partial change of ``product`` (``name``, ``price``, ``description``, ``active``,
    ``position``, ``available_from``, ``available_until``, ``max_per_order``, ``quotas``).

    A new price applies to orders placed from now on. Its quotas cannot change while orders hold
    seats of it: those seats were taken from the quotas it had.
    """
    before = product_snapshot(product)
    _apply_product(session, product, event, changes)
    activity.record(
        session, organizer_id=event.organizer_id, event_id=event.id, actor=actor, action="product.changed",
        subject=f"product:{product.id}", before=before, after=product_snapshot(product),
    )
    return product


def reorder_products(session: Session, event: Event, product_ids: Sequence[int], *, actor: str = "system") -> None:
    """Put the event's products in the order given (ids of other events are refused)."""
    products = {
        p.id: p for p in session.execute(
            select(Product).where(Product.event_id == event.id).options(selectinload(Product.quotas))
        ).scalars()
    }
    if set(product_ids) != set(products) or len(product_ids) != len(products):
        raise InvalidValue("List every product of the event once.", pointer="/data/attributes/position")
    for position, product_id in enumerate(product_ids):
        if products[product_id].position != position:
            update_product(session, products[product_id], event, {"position": position}, actor=actor)


def delete_product(session: Session, product: Product, event: Event, *, actor: str = "system") -> None:
    """Delete a product that was never ordered; one that was can only be deactivated (409)."""
    ordered = session.execute(select(OrderPosition.id).where(OrderPosition.product_id == product.id).limit(1)).first()
    if ordered is not None:
        raise Conflict(
            f"{product.name} has been ordered; it cannot be deleted, only deactivated.", code="product-ordered"
        )
    activity.record(
        session, organizer_id=event.organizer_id, event_id=event.id, actor=actor, action="product.deleted",
        subject=f"product:{product.id}", before=product_snapshot(product), after=None,
    )
    session.delete(product)
    session.flush()


def change_quota(session: Session, quota: Quota, event: Event, changes: Mapping[str, Any], *, actor: str) -> Quota:
    """Change a quota's name and size (through :func:`update_quota`) and its products, in the activity log."""
    before = quota_snapshot(quota)
    if "name" in changes:
        rules.check_text(changes["name"], "name", max_length=200, required=True)
    if "products" in changes:
        _assign(session, quota, event, changes["products"])
    quota = update_quota(session, quota, {k: v for k, v in changes.items() if k in ("name", "size")})
    activity.record(
        session, organizer_id=event.organizer_id, event_id=event.id, actor=actor, action="quota.changed",
        subject=f"quota:{quota.id}", before=before, after=quota_snapshot(quota),
    )
    return quota


def _assign(session: Session, quota: Quota, event: Event, products: Sequence[Product]) -> None:
    """Make ``products`` the products counted by ``quota``; a product whose orders hold seats keeps its quotas."""
    wanted = {p.id: p for p in products}
    for product in products:
        if product.event_id != event.id:
            raise InvalidValue("A quota's products belong to its event.", pointer="/data/relationships/products")
    current = {p.id: p for p in quota.products}
    for product_id in set(wanted) ^ set(current):
        _check_no_seats(session, wanted.get(product_id) or current[product_id])
    quota.products = list(wanted.values())
    session.flush()


def update_quota(session: Session, quota: Quota, changes: Mapping[str, Any]) -> Quota:
    """Apply a partial change of ``quota`` (``name``, ``size``: see :func:`resize_quota`)."""
    if "name" in changes:
        quota.name = changes["name"]
        session.flush()
    if "size" in changes:
        quota = resize_quota(session, quota, changes["size"])
    return quota


def resize_quota(session: Session, quota: Quota, size: int | None) -> Quota:
    """Set the size of ``quota`` (null: unlimited), never below the seats held at this moment.

    One conditional ``UPDATE … WHERE used <= size``, like reserving seats: a buyer reserving at the
    same moment either took the seat before (and the resize sees it) or waits for the resize and
    sees the new size, so a resize cannot oversell. The API and the control panel both call this.
    """
    if size is not None and size < 0:
        raise InvalidValue("A quota size is zero or more (or null for unlimited).", pointer=SIZE_POINTER)
    condition = [Quota.id == quota.id] if size is None else [Quota.id == quota.id, Quota.used <= size]
    result = session.execute(
        update(Quota).where(*condition).values(size=size).execution_options(synchronize_session=False)
    )
    session.refresh(quota)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(
            f"{quota.used} seats of this quota are taken; its size cannot be less.",
            pointer=SIZE_POINTER,
            code="quota-in-use",
            meta={"used": str(quota.used)},
        )
    return quota
