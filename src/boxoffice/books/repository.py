"""Queries of the books: finding an event by its command-line name, locking a batch of orders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event, Organizer
from boxoffice.catalogue.service import event_by_slug
from boxoffice.errors import InvalidValue, NotFound
from boxoffice.orders.models import Order


def event_by_reference(session: Session, reference: str) -> Event:
    """The event named ``organizer/event`` — or just ``event`` when only one organizer has that slug."""
    organizer_slug, _, event_slug = reference.rpartition("/")
    if organizer_slug:
        return event_by_slug(session, organizer_slug, event_slug)
    matches = session.execute(select(Event).where(Event.slug == event_slug).order_by(Event.id)).scalars().all()
    if not matches:
        raise NotFound(f"Event '{reference}' does not exist.", parameter="event")
    if len(matches) > 1:
        owners = ", ".join(
            f"{slug}/{event_slug}"
            for slug in session.execute(
                select(Organizer.slug)
                .where(Organizer.id.in_([e.organizer_id for e in matches]))
                .order_by(Organizer.slug)
            ).scalars()
        )
        raise InvalidValue(
            f"Several organizers have an event '{event_slug}'; name one of: {owners}.", parameter="event"
        )
    return matches[0]


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", parameter="id")
    return event


def lock_orders(session: Session, order_ids: Sequence[int]) -> list[Order]:
    """Load ``order_ids`` with their rows locked (``SELECT … FOR UPDATE``), in id order.

    One statement for the whole batch; taking the locks in id order means two batch jobs never
    wait on each other in a cycle, and single-order services (which lock one row) cannot either.
    """
    return list(
        session.execute(
            select(Order)
            .where(Order.id.in_(order_ids))
            .order_by(Order.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    )
