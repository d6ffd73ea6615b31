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
ORGANIZER_SECTIONS = (
    ("events", "Events", "", False),
    ("team", "Team and API tokens", "team/", True),
    ("activity", "Activity log", "activity/", True),
)
SECTIONS = (
    ("dashboard", "Dashboard", "", False),
    ("orders", "Orders", "orders/", False),
    ("event", "Event", "event/", True),
    ("products", "Products", "products/", True),
    ("quotas", "Quotas", "quotas/", True),
    ("bank", "Bank transfers", "bank/", False),
    ("checkin", "Check-in", "checkin/", False),
    ("settings", "Settings", "settings/", True),
    ("webhooks", "Webhooks", "webhooks/", True),
    ("cancel", "Cancel event", "cancel/", True),
    ("shredder", "Data shredder", "shredder/", True),
)


@dataclass(frozen=True)
class OrganizerPanel:
    """The control panel's view of one request: the user, and the organizer being worked on."""

    principal: Principal
    organizer: Organizer
    section: str

    @property
    def base(self) -> str:
        """The organizer's control panel URL, ``/control/<organizer>/``."""
        return f"/control/{self.organizer.slug}/"

    @property
    def is_admin(self) -> bool:
        return self.principal.role_in(self.organizer.id) == "admin"

    @property
    def user(self) -> str:
        return self.principal.label.removeprefix("user:")

    @property
    def nav(self) -> list[tuple[str, str, bool]]:
        return self._nav(ORGANIZER_SECTIONS)

    def _nav(self, sections: tuple[tuple[str, str, str, bool], ...]) -> list[tuple[str, str, bool]]:
        """(label, link, current) of the sections this user may open (admins' ones only for admins)."""
        admin = self.is_admin
        return [
            (label, self.base + path, key == self.section)
            for key, label, path, admins_only in sections
            if admin or not admins_only
        ]


@dataclass(frozen=True)
class Panel(OrganizerPanel):
    """The control panel's view of one request: the user, and the event being worked on."""

    event: Event

    @property
    def base(self) -> str:
        """The event's control panel URL, ``/control/<organizer>/<event>/``."""
        return f"/control/{self.organizer.slug}/{self.event.slug}/"

    @property
    def nav(self) -> list[tuple[str, str, bool]]:
        return self._nav(SECTIONS)

    @property
    def life(self) -> str:
        """``draft``, ``test-mode`` or ``live`` (see :func:`boxoffice.catalogue.rules.life_state`)."""
        return life_state(live=self.event.live, test_mode=self.event.test_mode)


def _member(principal: Principal, organizer_id: int, missing: NotFound, admin: bool) -> Principal:
    """The logged-in user, who must be in the organizer's team (else ``missing``: nothing is revealed)."""
    try:
        principal.require_organizer(organizer_id)
    except PermissionDenied:
        raise missing from None
    if admin:
        principal.require_organizer(organizer_id, admin=True)
    return principal


def open_organizer(
    request: Request, session: Session, organizer: str, section: str, *, admin: bool = False
) -> OrganizerPanel:
    """Log-in check and the user's role in ``organizer`` (admins only with ``admin``); another
    organizer answers 404, like an unknown one."""
    missing = NotFound(f"Organizer '{organizer}' does not exist.", parameter="organizer")
    principal = current_user(request, session)  # log in first: strangers are sent to the login form
    try:
        found = organizer_by_slug(session, organizer)
    except NotFound:
        raise missing from None
    return OrganizerPanel(_member(principal, found.id, missing, admin), found, section)


def open_panel(
    request: Request, session: Session, organizer: str, event: str, section: str, *, admin: bool = False
) -> Panel:
    """Log-in check, the event, and the user's role in its organizer (admins only with ``admin``).

    Another organizer's event answers 404, like an unknown one: its existence is not revealed.
    """
    missing = NotFound(f"Event '{organizer}/{event}' does not exist.", parameter="event")
    principal = current_user(request, session)
    try:
        found = event_by_slug(session, organizer, event)
    except NotFound:
        raise missing from None
    return Panel(_member(principal, found.organizer_id, missing, admin), found.organizer, section, found)


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
