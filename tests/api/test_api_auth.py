"""``POST /v1/auth/session``: a JWT for the right password, the same refusal for a wrong password and an
unknown address, and a rate limit per address and per client that every process shares."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from boxoffice import config
from boxoffice.api import ratelimit
from boxoffice.app import create_app
from boxoffice.kit import clock

PASSWORD = "correct horse battery"


def _login(api: Any, email: str, password: str, *, client: TestClient | None = None) -> Any:
    return (client or api.client).post(
        "/v1/auth/session",
        json={"email": email, "password": password},
        headers={"Content-Type": "application/json"},
    )


def test_the_right_password_gives_a_token_that_works_with_both_schemes(api: Any, world: Any) -> None:
    response = _login(api, "  Admin@Acme-X.example ", PASSWORD)
    assert response.status_code == 200
    assert response.json().keys() == {"access_token"}
    token = response.json()["access_token"]
    for scheme in ("JWT", "Bearer"):
        doc = api.get(f"/v1/orders/{world.order_a}", headers={"Authorization": f"{scheme} {token}"})
        assert doc["data"]["id"] == str(world.order_a)


@pytest.mark.parametrize(("email", "password"), [("admin@acme-x.example", "wrong"), ("nobody@example.org", PASSWORD)])
def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    api: Any, world: Any, email: str, password: str
) -> None:
    error = api.expect(_login(api, email, password), 401)["errors"][0]
    assert (error["code"], error["detail"]) == ("invalid-credentials", "Wrong e-mail address or password.")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "a@example.org"}, 422),
        ({"email": "a@example.org", "password": "x", "remember": True}, 422),
        ({"email": 7, "password": "x"}, 422),
        ([], 400),
    ],
)
def test_malformed_logins_are_refused_before_counting(api: Any, world: Any, body: Any, status: int) -> None:
    response = api.client.post("/v1/auth/session", json=body, headers={"Content-Type": "application/json"})
    api.expect(response, status)


def test_garbage_credentials_are_401(api: Any, world: Any) -> None:
    for header in ("Bearer nonsense", "Basic YWRtaW46YWRtaW4=", "Bearer bxo_unknown", "JWT "):
        error = api.get("/v1/orders", 401, headers={"Authorization": header})["errors"][0]
        assert error["status"] == "401"


@pytest.fixture
def three_per_minute(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE", "3")
    config.get_settings.cache_clear()
    yield
    monkeypatch.undo()
    config.get_settings.cache_clear()


def test_too_many_attempts_for_one_address_wait_a_minute_in_every_process(
    api: Any, world: Any, three_per_minute: Any
) -> None:
    for _ in range(3):
        assert _login(api, "admin@acme-x.example", "wrong").status_code == 401
    # Another process (another app) counts the same attempts: they are rows in the database.
    with TestClient(create_app()) as other_process:
        refused = _login(api, "admin@acme-x.example", PASSWORD, client=other_process)
    error = api.expect(refused, 429)["errors"][0]
    assert error["code"] == "too-many-requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert _login(api, "staff@acme-x.example", PASSWORD).status_code == 429  # the same client, too
    clock.travel(61)
    try:
        assert _login(api, "admin@acme-x.example", PASSWORD).status_code == 200
    finally:
        clock.travel(0)


def _from(app: Any, address: str) -> TestClient:
    return TestClient(app, client=(address, 5000))


def test_a_stranger_guessing_a_known_address_cannot_lock_its_owner_out(
    app: Any, api: Any, world: Any, three_per_minute: Any
) -> None:
    owner, stranger = _from(app, "198.51.100.1"), _from(app, "203.0.113.66")
    assert _login(api, "admin@acme-x.example", PASSWORD, client=owner).status_code == 200
    statuses = [_login(api, "admin@acme-x.example", "guess", client=stranger).status_code for _ in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]
    # The owner's browser, which logged in before, is not held by the stranger's guesses.
    assert _login(api, "admin@acme-x.example", PASSWORD, client=owner).status_code == 200
    # Other accounts from the stranger's address wait, too: the address itself is throttled.
    assert _login(api, "staff@acme-x.example", PASSWORD, client=stranger).status_code == 429


def test_guessing_one_account_from_one_client_waits_longer_after_every_try(
    api: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A minute to start with, so the slow password checks of a busy machine do not blur the waits.
    monkeypatch.setattr(ratelimit, "BACKOFF_BASE", timedelta(minutes=1))
    for _ in range(5):
        assert _login(api, "admin@acme-x.example", "guess").status_code == 401
    refused = _login(api, "admin@acme-x.example", PASSWORD)
    assert refused.status_code == 429 and 30 <= int(refused.headers["Retry-After"]) <= 60
    try:
        clock.travel(61)
        assert _login(api, "admin@acme-x.example", "guess").status_code == 401
        assert 90 <= int(_login(api, "admin@acme-x.example", PASSWORD).headers["Retry-After"]) <= 120
        clock.travel(121)
        assert _login(api, "admin@acme-x.example", PASSWORD).status_code == 200
        # A success starts the count again.
        assert _login(api, "admin@acme-x.example", "guess").status_code == 401
    finally:
        clock.travel(0)


def test_guessing_spread_over_many_addresses_holds_only_new_clients_of_the_account(
    app: Any, api: Any, world: Any, three_per_minute: Any
) -> None:
    owner = _from(app, "198.51.100.1")
    assert _login(api, "admin@acme-x.example", PASSWORD, client=owner).status_code == 200
    # Thirty attempts an hour per account from clients it does not know: the owner's first login and these.
    for number in range(29):
        assert _login(api, "admin@acme-x.example", "guess", client=_from(app, f"10.0.{number}.1")).status_code == 401
    assert _login(api, "admin@acme-x.example", PASSWORD, client=_from(app, "10.9.9.9")).status_code == 429
    assert _login(api, "admin@acme-x.example", PASSWORD, client=owner).status_code == 200
    assert _login(api, "staff@acme-x.example", PASSWORD, client=_from(app, "10.9.9.9")).status_code == 200
