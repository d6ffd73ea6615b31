"""Use cases of the catalogue: organizers, events, products, quotas."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from boxoffice.catalogue import rules
from boxoffice.catalogue.models import Event, Organizer, Product, Quota
from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.kit.currencies import is_currency_code
from boxoffice.kit.money import normalize
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.providers.registry import validate_payment_providers

SIZE_POINTER = "/data/attributes/size"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _check_slug(slug: str, pointer: str) -> str:
    if not _SLUG.match(slug):
        raise InvalidValue("A slug is lower-case letters, digits and dashes.", pointer=pointer)
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
) -> Event:
    _check_slug(slug, "/data/attributes/slug")
    if not is_currency_code(currency):
        raise InvalidValue(f"'{currency}' is not an ISO 4217 currency code.", pointer="/data/attributes/currency")
    taken = session.execute(select(Event.id).where(Event.organizer_id == organizer.id, Event.slug == slug)).first()
    if taken:
        raise Conflict(f"Event slug '{slug}' is taken.", pointer="/data/attributes/slug", code="slug-taken")
    event = Event(
        organizer_id=organizer.id,
        slug=slug,
        name=name,
        currency=currency,
        timezone=timezone,
        payment_providers=payment_providers or {},
        settings=settings or {},
    )
    event.organizer = organizer
    session.add(event)
    session.flush()
    return event


def create_quota(session: Session, event: Event, *, name: str, size: int | None) -> Quota:
    if size is not None and size < 0:
        raise InvalidValue("A quota size is zero or more (or null for unlimited).", pointer=SIZE_POINTER)
    quota = Quota(event_id=event.id, name=name, size=size, used=0)
    session.add(quota)
    session.flush()
    return quota


def create_product(
    session: Session, event: Event, *, name: str, price: Decimal, quotas: Sequence[Quota] = ()
) -> Product:
    if price < 0:
        raise InvalidValue("A price is zero or more.", pointer="/data/attributes/price")
    product = Product(event_id=event.id, name=name, price=normalize(price, event.currency))
    for quota in quotas:
        if quota.event_id != event.id:
            raise InvalidValue("A product's quotas belong to its event.", pointer="/data/relationships/quotas")
        product.quotas.append(quota)
    session.add(product)
    session.flush()
    return product


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


def update_event(session: Session, event: Event, changes: Mapping[str, Any]) -> Event:
    """Apply a partial change of ``event`` (keys: ``name``, ``slug``, ``currency``, ``timezone``,
    ``date_from``, ``date_to``, ``payment_providers``, ``settings``), checking every value.

    ``payment_providers`` changes only the providers it names (secrets left out are kept);
    ``settings`` changes only the settings it names (null removes one). The currency is fixed once
    the event has orders.
    """
    if "currency" in changes and changes["currency"] != event.currency:
        currency = changes["currency"]
        if not is_currency_code(currency):
            raise InvalidValue(f"'{currency}' is not an ISO 4217 currency code.", pointer="/data/attributes/currency")
        if _has_orders(session, event.id):
            raise Conflict(
                "The currency of an event with orders cannot change.",
                pointer="/data/attributes/currency",
                code="currency-locked",
            )
        event.currency = currency
    if "slug" in changes and changes["slug"] != event.slug:
        slug = _check_slug(changes["slug"], "/data/attributes/slug")
        taken = session.execute(
            select(Event.id).where(Event.organizer_id == event.organizer_id, Event.slug == slug)
        ).first()
        if taken:
            raise Conflict(f"Event slug '{slug}' is taken.", pointer="/data/attributes/slug", code="slug-taken")
        event.slug = slug
    if "name" in changes:
        event.name = changes["name"]
    if "timezone" in changes:
        event.timezone = rules.check_timezone(changes["timezone"])
    if "date_from" in changes:
        event.date_from = changes["date_from"]
    if "date_to" in changes:
        event.date_to = changes["date_to"]
    if event.date_from and event.date_to and event.date_from > event.date_to:
        raise InvalidValue("The event cannot end before it begins.", pointer="/data/attributes/date-to")
    if "payment_providers" in changes:
        event.payment_providers = validate_payment_providers(
            changes["payment_providers"], current=event.payment_providers, currency=event.currency
        )
    if "settings" in changes:
        event.settings = rules.merge_settings(event.settings or {}, changes["settings"], event.currency)
    session.flush()
    return event


def update_product(session: Session, product: Product, event: Event, changes: Mapping[str, Any]) -> Product:
    """Apply a partial change of ``product`` (``name``, ``price``, ``active``, ``position``, ``quotas``).

    A new price applies to orders placed from now on. Its quotas cannot change while orders hold
    seats of it: those seats were taken from the quotas it had.
    """
    if "name" in changes:
        product.name = changes["name"]
    if "price" in changes:
        price = changes["price"]
        if price < 0:
            raise InvalidValue("A price is zero or more.", pointer="/data/attributes/price")
        try:
            product.price = normalize(price, event.currency)
        except InvalidValue as exc:
            raise InvalidValue(exc.detail, pointer="/data/attributes/price", code="too-precise") from exc
    if "active" in changes:
        product.active = changes["active"]
    if "position" in changes:
        product.position = changes["position"]
    if "quotas" in changes:
        quotas: Sequence[Quota] = changes["quotas"]
        if {q.id for q in quotas} != {q.id for q in product.quotas}:
            if _seats_held(session, product.id):
                raise Conflict(
                    "Orders hold seats of this product in its quotas; its quotas cannot change now.",
                    pointer="/data/relationships/quotas",
                    code="product-has-orders",
                )
            for quota in quotas:
                if quota.event_id != event.id:
                    raise InvalidValue("A product's quotas belong to its event.", pointer="/data/relationships/quotas")
            product.quotas = list(quotas)
    session.flush()
    return product


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
