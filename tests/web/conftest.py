"""Fixtures of the page tests: an event with sandbox, manual and bank transfer, its team, a page client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from background import run_jobs  # noqa: F401 - a fixture of the page tests
from boxoffice.accounts import service as accounts_service
from boxoffice.accounts.service import create_user
from boxoffice.accounts.service import hash_password as _hash_password
from boxoffice.app import create_app
from boxoffice.orders.models import Order
from conftest import Shop, make_shop
from web.pagekit import ADMIN, PROVIDERS, STAFF, STRANGER, Pages

_HASHES: dict[str, str] = {}


def _hash_once(password: str) -> str:
    # Argon2 is slow on purpose; the same three passwords are hashed once per test session.
    if password not in _HASHES:
        _HASHES[password] = _hash_password(password)
    return _HASHES[password]


@pytest.fixture
def web_shop(uow, monkeypatch) -> Shop:  # type: ignore[no-untyped-def]
    """A committed event ``acme/conf`` (Regular 49.00, Student 19.00, quota 100), its admin and staff
    member, and another organizer ``other`` with its own event and admin."""
    monkeypatch.setattr(accounts_service, "hash_password", _hash_once)
    with uow() as s:
        shop = make_shop(s, providers={k: dict(v) for k, v in PROVIDERS.items()})
        create_user(s, email=ADMIN[0], password=ADMIN[1], organizer_slug="acme", role="admin")
        create_user(s, email=STAFF[0], password=STAFF[1], organizer_slug="acme", role="staff")
        make_shop(s, organizer="other", slug="fair")
        create_user(s, email=STRANGER[0], password=STRANGER[1], organizer_slug="other", role="admin")
        return shop


@pytest.fixture
def pages(database_url: str) -> Iterator[Pages]:
    # Not entered as a context manager: the app's lifespan (background runners) stays off.
    client = TestClient(create_app())
    yield Pages(client)
    client.close()


@pytest.fixture
def load_order(uow) -> Callable[[str], Order]:  # type: ignore[no-untyped-def]
    """Read an order by code as it is committed now (with its payments, refunds and positions)."""

    def load(code: str) -> Order:
        with uow() as s:
            order = s.execute(select(Order).where(Order.code == code)).scalar_one()
            _ = order.payments, order.refunds, order.positions, order.fees
            return order

    return load
