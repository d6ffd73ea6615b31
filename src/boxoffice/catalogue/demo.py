"""``boxoffice demo``: an idempotent demo organizer, event, products, providers and admin user."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.accounts.service import create_user
from boxoffice.catalogue.models import Event, Product, Quota
from boxoffice.catalogue.service import create_event, create_product, create_quota, get_or_create_organizer

DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "demo-admin"
DEMO_PROVIDERS = {
    "free": {"enabled": True},
    "manual": {"enabled": True},
    # A well-known test IBAN (it passes the check digits but belongs to nobody).
    "banktransfer": {
        "enabled": True,
        "bank-account-holder": "Demo Organizer",
        "iban": "DE02120300000000202051",
        "bic": "BYLADEM1001",
        "bank-name": "Demo Bank",
    },
    "sandbox": {"enabled": True},
}


def seed_demo(session: Session) -> Event:
    organizer = get_or_create_organizer(session, "demo", "Demo Organizer")
    event = session.execute(
        select(Event).where(Event.organizer_id == organizer.id, Event.slug == "demo-conf")
    ).scalar_one_or_none()
    if event is None:
        event = create_event(
            session,
            organizer,
            slug="demo-conf",
            name="Demo Conference",
            currency="EUR",
            timezone="Europe/Berlin",
            payment_providers=DEMO_PROVIDERS,
            live=True,
            test_mode=True,
        )
    else:
        # Live and in test mode, as the contract seeds it: the demo's sandbox takes test money only.
        event.live, event.test_mode = True, True
        event.payment_providers = {**DEMO_PROVIDERS, **(event.payment_providers or {})}
    quota = session.execute(
        select(Quota).where(Quota.event_id == event.id, Quota.name == "Tickets")
    ).scalar_one_or_none()
    if quota is None:
        quota = create_quota(session, event, name="Tickets", size=100)
    for name, price in (("Regular", Decimal("49.00")), ("Student", Decimal("19.00"))):
        exists = session.execute(select(Product.id).where(Product.event_id == event.id, Product.name == name)).first()
        if not exists:
            create_product(session, event, name=name, price=price, quotas=[quota])
    create_user(session, email=DEMO_EMAIL, password=DEMO_PASSWORD, organizer_slug="demo", role="admin")
    return event
