"""Logins are sessions the server can end (issue 17, point 2): logging out, changing the password and
leaving a team make the old token and cookie useless at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice import config
from boxoffice.accounts.models import User, UserSession
from boxoffice.accounts.service import prune_sessions, remove_member
from boxoffice.kit import clock

PASSWORD = "correct horse battery"


def _login(api: Any, email: str = "admin@acme-x.example", password: str = PASSWORD) -> str:
    response = api.client.post("/v1/auth/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_logging_out_ends_that_login_and_no_other(api: Any, world: Any) -> None:
    first, second = _login(api), _login(api)
    assert api.request("DELETE", "/v1/auth/session", headers=_bearer(first)).status_code == 204
    error = api.get("/v1/events", 401, headers=_bearer(first))["errors"][0]
    assert error["code"] == "session-ended"
    api.get("/v1/events", 200, headers=_bearer(second))
    assert api.request("DELETE", "/v1/auth/session", headers=_bearer(first)).status_code == 401


def test_only_a_users_login_can_be_ended(api: Any, world: Any) -> None:
    assert api.request("DELETE", "/v1/auth/session").status_code == 401
    assert api.request("DELETE", "/v1/auth/session", headers=world.headers("buyer_a")).status_code == 403


def test_changing_the_password_ends_every_login_and_gives_a_new_one(api: Any, world: Any) -> None:
    old, other = _login(api), _login(api)
    wrong = api.client.post(
        "/v1/auth/password", json={"current_password": "guess", "new_password": "a new secret"}, headers=_bearer(old)
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["source"] == {"pointer": "/current_password"}
    api.get("/v1/events", 200, headers=_bearer(other))

    changed = api.client.post(
        "/v1/auth/password", json={"current_password": PASSWORD, "new_password": "a new secret"}, headers=_bearer(old)
    )
    assert changed.status_code == 200
    for ended in (old, other):
        api.get("/v1/events", 401, headers=_bearer(ended))
    api.get("/v1/events", 200, headers=_bearer(changed.json()["access_token"]))
    assert _login(api, password="a new secret")
    refused = api.client.post("/v1/auth/session", json={"email": "admin@acme-x.example", "password": PASSWORD})
    assert refused.status_code == 401


def test_removing_a_member_ends_their_logins(api: Any, world: Any, uow: Any) -> None:
    token = _login(api, "staff@acme-x.example")
    with uow() as s:
        remove_member(s, email="staff@acme-x.example", organizer_slug="acme-x")
    api.get("/v1/events", 401, headers=_bearer(token))
    api.get(f"/v1/orders/{world.order_a}", 401, headers=world.headers("staff_x"))


def test_expired_sessions_are_pruned_and_their_tokens_refused(api: Any, world: Any, uow: Any) -> None:
    token = _login(api)
    clock.travel(13 * 3600)
    try:
        with uow() as s:
            assert prune_sessions(s) >= 1
    finally:
        clock.travel(0)
    api.get("/v1/events", 401, headers=_bearer(token))
    with uow() as s:
        admin = s.scalars(select(User).where(User.email == "admin@acme-x.example")).one()
        assert s.scalars(select(UserSession).where(UserSession.user_id == admin.id)).all() == []


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests log in often; the rate limit is not what they are about."""
    monkeypatch.setenv("BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE", "100")
    config.get_settings.cache_clear()
    yield
    monkeypatch.undo()
    config.get_settings.cache_clear()


def test_guessing_the_current_password_with_a_stolen_token_is_throttled_like_logging_in(api: Any, world: Any) -> None:
    token = _login(api)
    guess = {"current_password": "guess", "new_password": "a new secret"}
    statuses = [api.client.post("/v1/auth/password", json=guess, headers=_bearer(token)).status_code for _ in range(7)]
    assert statuses[:5] == [422] * 5 and statuses[6] == 429
