"""Who is looking at which organizer and event in the control panel, and the navigation they get."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request

from boxoffice.accounts.auth import Principal
from boxoffice.catalogue.models import Event, Organizer
from boxoffice.catalogue.rules import life_state
from boxoffice.catalogue.service import event_by_slug, organizer_by_slug
from boxoffice.errors import NotFound, PermissionDenied
from boxoffice.web.control.session import current_user

# (key, label, path, admins only): staff see orders and check in, never settings or money moves.
SECTIONS = (
    ("dashboard", "Dashboard", "", False),
    ("orders", "Orders", "orders/", False),
    ("event", "Event", "event/", True),
    ("products", "Products", "products/", True),
    ("quotas", "Quotas", "quotas/", True),
    ("bank", "Bank transfers", "bank/", False),
    ("settings", "Settings", "settings/", True),
    ("webhooks", "Webhooks", "webhooks/", True),
    ("cancel", "Cancel event", "cancel/", True),
    ("shredder", "Data shredder", "shredder/", True),
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
        admin = self.is_admin
        return [
            (label, self.base + path, key == self.section)
            for key, label, path, admins_only in SECTIONS
            if admin or not admins_only
        ]

    @property
    def life(self) -> str:
        """``draft``, ``test-mode`` or ``live`` (see :func:`boxoffice.catalogue.rules.life_state`)."""
        return life_state(live=self.event.live, test_mode=self.event.test_mode)


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


@dataclass(frozen=True)
class OrganizerPanel:
    """The control panel's view of an organizer's own pages (events, team, activity)."""

    principal: Principal
    organizer: Organizer
    section: str

    @property
    def base(self) -> str:
        return f"/control/{self.organizer.slug}/"

    @property
    def is_admin(self) -> bool:
        return self.principal.role_in(self.organizer.id) == "admin"

    @property
    def user(self) -> str:
        return self.principal.label.removeprefix("user:")

    @property
    def nav(self) -> list[tuple[str, str, bool]]:
        sections = [("events", "Events", "")]
        if self.is_admin:
            sections += [("team", "Team and API tokens", "team/"), ("activity", "Activity log", "activity/")]
        return [(label, self.base + path, key == self.section) for key, label, path in sections]


def open_organizer(
    request: Request, session: Session, organizer: str, section: str, *, admin: bool = False
) -> OrganizerPanel:
    """Log-in check and the user's role in ``organizer``; another organizer answers 404."""
    principal = current_user(request, session)
    try:
        found = organizer_by_slug(session, organizer)
        principal.require_organizer(found.id)
    except (NotFound, PermissionDenied):
        raise NotFound(f"Organizer '{organizer}' does not exist.", parameter="organizer") from None
    if admin:
        principal.require_organizer(found.id, admin=True)
    return OrganizerPanel(principal, found, section)


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
