"""Who is looking at which organizer and event in the control panel, and the navigation they get."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request

from boxoffice.accounts.auth import Principal
from boxoffice.catalogue.models import Event, Organizer
from boxoffice.catalogue.service import event_by_slug
from boxoffice.errors import NotFound, PermissionDenied
from boxoffice.web.control.session import current_user

SECTIONS = (
    ("dashboard", "Dashboard", ""),
    ("orders", "Orders", "orders/"),
    ("bank", "Bank transfers", "bank/"),
    ("checkin", "Check-in", "checkin/"),
    ("settings", "Settings", "settings/"),
    ("webhooks", "Webhooks", "webhooks/"),
    ("shredder", "Data shredder", "shredder/"),
)


@dataclass(frozen=True)
class Panel:
    """The control panel's view of one request: the user, and the event being worked on."""

    principal: Principal
    event: Event
    section: str

    @property
    def organizer(self) -> Organizer:
        return self.event.organizer

    @property
    def base(self) -> str:
        """The event's control panel URL, ``/control/<organizer>/<event>/``."""
        return f"/control/{self.organizer.slug}/{self.event.slug}/"

    @property
    def is_admin(self) -> bool:
        return self.principal.role_in(self.organizer.id) == "admin"

    @property
    def user(self) -> str:
        return self.principal.label.removeprefix("user:")

    @property
    def nav(self) -> list[tuple[str, str, bool]]:
        return [(label, self.base + path, key == self.section) for key, label, path in SECTIONS]


def open_panel(
    request: Request, session: Session, organizer: str, event: str, section: str, *, admin: bool = False
) -> Panel:
    """Log-in check, the event, and the user's role in its organizer (admins only with ``admin``).

    Another organizer's event answers 404, like an unknown one: its existence is not revealed.
    """
    principal = current_user(request, session)
    try:
        found = event_by_slug(session, organizer, event)
        principal.require_organizer(found.organizer_id)
    except (NotFound, PermissionDenied):
        raise NotFound(f"Event '{organizer}/{event}' does not exist.", parameter="event") from None
    if admin:
        principal.require_organizer(found.organizer_id, admin=True)
    return Panel(principal, found, section)


def events_of(session: Session, principal: Principal) -> list[Event]:
    """The events of every organizer the user is a member of."""
    if not principal.roles:
        return []
    return list(
        session.execute(
            select(Event)
            .join(Organizer, Organizer.id == Event.organizer_id)
            .where(Event.organizer_id.in_(list(principal.roles)))
            .order_by(Organizer.slug, Event.slug)
        ).scalars()
    )
