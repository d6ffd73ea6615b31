"""Use cases of the catalogue: organizers, events, products, quotas."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event, Organizer, Product, Quota
from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.kit.currencies import is_currency_code
from boxoffice.kit.money import normalize

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
        raise InvalidValue("A quota size is zero or more (or null for unlimited).", pointer="/data/attributes/size")
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
