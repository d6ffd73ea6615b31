"""Fixtures of the API tests: the app, a client that checks every document, and a two-organizer world.

The world: organizer X (``acme-x``) with staff and an admin, organizer Y (``acme-y``) with an admin,
an event of X with two products in one quota (sandbox, manual and bank transfer enabled), and two
pending orders A and B of that event, each with its buyer token.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from boxoffice.accounts.auth import issue_order_token, issue_user_token
from boxoffice.accounts.models import Membership, User
from boxoffice.accounts.service import hash_password
from boxoffice.app import create_app
from boxoffice.catalogue.service import get_or_create_organizer
from boxoffice.orders.service import LineItem, place_order
from conftest import Shop, make_shop
from jsonapi_schema import assert_jsonapi

PASSWORD = "correct horse battery"
MEDIA_TYPE = "application/vnd.api+json"


@cache
def password_hash() -> str:
    """One argon2 hash for every test user (hashing is slow on purpose)."""
    return hash_password(PASSWORD)


def add_member(session: Session, email: str, organizer_id: int, role: str) -> User:
    user = User(email=email, password_hash=password_hash())
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organizer_id=organizer_id, role=role))
    session.flush()
    return user


@dataclass
class World:
    name: str
    shop: Shop
    organizer_x: int
    organizer_y: int
    order_a: int
    order_b: int
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        token = self.tokens.get(who)
        return {} if token is None else {"Authorization": f"Bearer {token}"}

    def order_document(self, *, quantity: int = 1, mode: str = "sandbox", product: int | None = None) -> dict[str, Any]:
        """A document placing an order of ``quantity`` Regular tickets of the world's event."""
        return {
            "data": {
                "type": "orders",
                "attributes": {
                    "email": "buyer@example.org",
                    "payment-mode": mode,
                    "positions": [{"product": str(product or self.shop.regular_id), "quantity": quantity}],
                },
                "relationships": {"event": {"data": {"type": "events", "id": str(self.shop.event_id)}}},
            }
        }

    @staticmethod
    def charge_document(token: str, provider: str = "sandbox") -> dict[str, Any]:
        return {"data": {"type": "charge", "attributes": {provider: token}}}


class Api:
    """A test client that checks what every answer must be: its status, and a JSON:API document."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._keys = itertools.count(1)

    def request(
        self,
        method: str,
        path: str,
        *,
        doc: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        key: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Response:
        sent = {"Content-Type": MEDIA_TYPE} if doc is not None else {}
        if key is not None:
            sent["Idempotency-Key"] = key
        sent.update(headers or {})
        return self.client.request(method, path, json=doc, headers=sent, params=params)

    def expect(self, response: Response, status: int) -> dict[str, Any]:
        """The document of ``response``, which must have ``status`` and be valid JSON:API."""
        assert response.status_code == status, f"{response.status_code} != {status}: {response.text}"
        if not response.content:
            return {}
        assert response.headers["content-type"] == MEDIA_TYPE, response.headers["content-type"]
        document: dict[str, Any] = response.json()
        assert_jsonapi(document)
        return document

    def get(self, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
        return self.expect(self.request("GET", path, **kwargs), status)

    def post(self, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        return self.expect(self.request("POST", path, **kwargs), status)

    def patch(self, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        return self.expect(self.request("PATCH", path, **kwargs), status)

    def new_key(self) -> str:
        return f"test-key-{next(self._keys)}"


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
def api(app: FastAPI, database_url: str) -> Iterator[Api]:
    """The API on the test database; server errors come back as 500 responses (and fail the checks)."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client)


def build_world(uow: Any, name: str) -> World:
    """Organizers ``<name>-x`` and ``<name>-y`` with their team members, one event of X with two
    pending orders A and B. Several worlds live side by side in one database."""
    with uow() as s:
        shop = make_shop(s, organizer=f"{name}-x")
        x = shop.event.organizer_id
        y = get_or_create_organizer(s, f"{name}-y").id
        staff_x = add_member(s, f"staff@{name}-x.example", x, "staff")
        admin_x = add_member(s, f"admin@{name}-x.example", x, "admin")
        admin_y = add_member(s, f"admin@{name}-y.example", y, "admin")
        orders = [
            place_order(
                s,
                shop.event_id,
                email=email,
                items=[LineItem(shop.regular_id, 1)],
                actor="buyer",
                payment_mode="sandbox",
            )
            for email in ("a@example.org", "b@example.org")
        ]
        tokens = {
            "staff_x": issue_user_token(s, staff_x),
            "admin_x": issue_user_token(s, admin_x),
            "admin_y": issue_user_token(s, admin_y),
            "buyer_a": issue_order_token(s, orders[0].id, orders[0].code),
            "buyer_b": issue_order_token(s, orders[1].id, orders[1].code),
        }
        return World(name, shop, x, y, orders[0].id, orders[1].id, tokens)


@pytest.fixture
def world(uow: Any) -> World:
    """Two organizers, their team members, one event of X with two pending orders A and B."""
    return build_world(uow, "acme")


@pytest.fixture
def make_world(uow: Any) -> Callable[[], World]:
    """Builds one more world in the same database each time it is called."""
    names = (f"w{number}" for number in itertools.count(1))
    return lambda: build_world(uow, next(names))
