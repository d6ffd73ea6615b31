"""Shared by the remote providers' tests and the contract suite: test servers, and the HTTP API as buyers and admins use it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from background import run_jobs  # noqa: F401  (a fixture)
from boxoffice.accounts.auth import issue_user_token
from boxoffice.accounts.models import Membership, User
from boxoffice.accounts.service import hash_password
from boxoffice.app import create_app
from boxoffice.config import get_settings
from conftest import Shop
from fakes.localstripe import running_localstripe
from fakes.paypal import PayPalFake
from jsonapi_schema import assert_jsonapi

MEDIA_TYPE = "application/vnd.api+json"


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """localstripe in a subprocess on 127.0.0.1, once per test process (it takes a moment to start)."""
    with running_localstripe() as server:
        yield server.base_url


@contextmanager
def pointed_at(variable: str, url: str) -> Iterator[None]:
    """Send the app's calls to a provider to ``url`` (``BOXOFFICE_*_API_BASE``) inside the block."""
    before = os.environ.get(variable)
    os.environ[variable] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = before
        get_settings.cache_clear()


@pytest.fixture
def stripe_api(localstripe_url: str, database_url: str) -> Iterator[str]:
    """The app talks to localstripe during this test."""
    with pointed_at("BOXOFFICE_STRIPE_API_BASE", localstripe_url):
        yield localstripe_url


@pytest.fixture
def paypal_fake(database_url: str) -> Iterator[PayPalFake]:
    """A fresh PayPal fake on 127.0.0.1 that the app talks to during this test."""
    with PayPalFake().running() as fake, pointed_at("BOXOFFICE_PAYPAL_API_BASE", fake.base_url):
        yield fake


class Http:
    """The public HTTP API as a buyer and as the organizer's admin use it; every document is checked."""

    def __init__(self, client: TestClient, uow: Any) -> None:
        self.client, self.uow = client, uow

    def call(self, method: str, path: str, status: int, doc: dict[str, Any] | None = None,
             token: str | None = None) -> dict[str, Any]:  # fmt: skip
        headers = {"Content-Type": MEDIA_TYPE} | ({"Authorization": f"Bearer {token}"} if token else {})
        answer = self.client.request(method, path, json=doc, headers=headers)
        assert answer.status_code == status, f"{answer.status_code} != {status}: {answer.text}"
        document: dict[str, Any] = answer.json()
        assert_jsonapi(document)
        return document

    def place(self, shop: Shop, mode: str, quantity: int = 1) -> tuple[int, str]:
        """``POST /v1/orders`` as an anonymous buyer: the order's id and the buyer's token."""
        doc = {"data": {"type": "orders", "attributes": {
            "email": "buyer@example.org", "payment-mode": mode,
            "positions": [{"product": str(shop.regular_id), "quantity": quantity}]},
            "relationships": {"event": {"data": {"type": "events", "id": str(shop.event_id)}}}}}  # fmt: skip
        created = self.call("POST", "/v1/orders", 201, doc)
        return int(created["data"]["id"]), str(created["meta"]["access-token"])

    def admin(self, shop: Shop) -> str:
        """A token of an admin of the shop's organizer."""
        with self.uow() as s:
            user = User(email=f"admin-{shop.event_id}@example.org", password_hash=_password_hash())
            s.add(user)
            s.flush()
            s.add(Membership(user_id=user.id, organizer_id=shop.event.organizer_id, role="admin"))
            s.flush()
            return issue_user_token(s, user)

    @staticmethod
    def action(kind: str, **attributes: Any) -> dict[str, Any]:
        return {"data": {"type": kind, "attributes": attributes}}


@cache
def _password_hash() -> str:
    return hash_password("admin-password")  # argon2 is slow on purpose: once per test process


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
def http(uow: Any, app: FastAPI, database_url: str) -> Http:
    return Http(TestClient(app), uow)


@pytest.fixture(autouse=True)
def _jobs_run_after_commit(run_jobs: Any) -> None:  # noqa: F811
    """Queued jobs run right after their commit, as under ``boxoffice serve``: a callback's events are
    processed by the ``inbox.process`` job once the callback is answered."""
