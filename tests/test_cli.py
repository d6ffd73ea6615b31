"""The ``boxoffice`` command line, run the way a person runs it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from boxoffice.accounts.models import Membership, User
from boxoffice.catalogue.service import get_or_create_organizer
from boxoffice.cli import app
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments

runner = CliRunner()


def test_migrate_is_repeatable(database_url: str) -> None:
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_demo_is_idempotent_and_prints_the_login(database_url: str, uow) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        result = runner.invoke(app, ["demo"])
        assert result.exit_code == 0, result.output
    assert "admin@demo.example / demo-admin" in result.output
    from boxoffice.catalogue.models import Event, Product

    with uow() as s:
        event = s.scalars(select(Event)).one()
        assert (event.slug, event.currency) == ("demo-conf", "EUR")
        assert (event.live, event.test_mode) == (True, True)  # contract v1.1: the sandbox needs test mode
        prices = sorted((p.name, p.price) for p in s.scalars(select(Product)))
        assert prices == [("Regular", Decimal("49.00")), ("Student", Decimal("19.00"))]
        assert {q.size for p in s.scalars(select(Product)) for q in p.quotas} == {100}
        assert {k for k, v in event.payment_providers.items() if v["enabled"]} >= {
            "free",
            "manual",
            "banktransfer",
            "sandbox",
        }


def test_users_create_makes_a_team_member_and_the_organizer(database_url: str, uow) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "Staff@Example.org",
            "--password",
            "s3cret-pass",
            "--organizer",
            "acme",
            "--role",
            "staff",
        ],
    )
    assert result.exit_code == 0, result.output
    with uow() as s:
        user = s.scalars(select(User)).one()
        assert user.email == "staff@example.org" and user.password_hash.startswith("$argon2")
        assert s.scalars(select(Membership.role)).one() == "staff"


def test_users_create_refuses_a_short_password(database_url: str) -> None:
    result = runner.invoke(
        app, ["users", "create", "--email", "a@example.org", "--password", "short", "--organizer", "acme"]
    )
    assert result.exit_code == 2
    assert "8 characters" in result.output


def test_users_remove_takes_a_member_off_the_team_and_ends_their_logins(database_url: str, uow) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.accounts.auth import issue_user_token, resolve
    from boxoffice.errors import NotAuthenticated

    args = ["--email", "a@example.org", "--organizer", "acme"]
    assert runner.invoke(app, ["users", "create", *args, "--password", "s3cret-pass"]).exit_code == 0
    with uow() as s:
        token = issue_user_token(s, s.scalars(select(User)).one())
    result = runner.invoke(app, ["users", "remove", *args])
    assert result.exit_code == 0 and "logins have ended" in result.output
    with uow() as s:
        assert s.scalars(select(Membership)).all() == []
        with pytest.raises(NotAuthenticated):
            resolve(s, token)
    assert runner.invoke(app, ["users", "remove", *args]).exit_code == 2


def test_tokens_create_prints_a_token_once(database_url: str, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        get_or_create_organizer(s, "acme")
    result = runner.invoke(app, ["tokens", "create", "--organizer", "acme", "--name", "ci"])
    assert result.exit_code == 0 and result.output.startswith("bxo_")
    again = runner.invoke(app, ["tokens", "create", "--organizer", "acme", "--name", "ci"])
    assert again.exit_code == 2


@pytest.mark.parametrize("tamper", ["pending_sum", "quota"])
def test_books_verify_passes_on_honest_data_and_catches_drift(database_url: str, uow, shop, tamper: str) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 2)], actor="buyer"
        )
        p = payments.start_payment(s, order.id, provider="manual", actor="buyer")
        payments.confirm_payment(s, p.id, actor="user:admin")
        r = payments.create_refund(s, p.id, amount=Decimal("10.00"), actor="user:admin")
        payments.mark_refund_done(s, r.id, actor="user:admin")
    ok = runner.invoke(app, ["books", "verify"])
    assert ok.exit_code == 0, ok.output
    with uow() as s:
        if tamper == "pending_sum":
            s.execute(update(Order).values(pending_sum=Decimal("0.00")))
        else:
            from boxoffice.catalogue.models import Quota

            s.execute(update(Quota).values(used=0))
    bad = runner.invoke(app, ["books", "verify"])
    assert bad.exit_code == 1
    assert ("pending_sum is 0" in bad.output) if tamper == "pending_sum" else ("used is 0, expected 2" in bad.output)


@pytest.mark.parametrize(("proxies", "peer", "believed"), [("", "127.0.0.1", False), ("10.0.0.0/8", "10.1.2.3", True)])
def test_serve_believes_forwarded_addresses_only_from_configured_proxies(
    monkeypatch: pytest.MonkeyPatch, proxies: str, peer: str, believed: bool
) -> None:
    import asyncio

    import uvicorn
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from boxoffice import config

    monkeypatch.setenv("BOXOFFICE_TRUSTED_PROXIES", proxies)
    config.get_settings.cache_clear()
    ran: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: ran.update(kwargs))
    try:
        assert runner.invoke(app, ["serve"]).exit_code == 0
    finally:
        monkeypatch.delenv("BOXOFFICE_TRUSTED_PROXIES")
        config.get_settings.cache_clear()
    seen: list[object] = []

    async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope["client"][0])

    # What uvicorn does with these settings to a request carrying X-Forwarded-For from ``peer``.
    wrapped = ProxyHeadersMiddleware(inner, trusted_hosts=str(ran["forwarded_allow_ips"])) if ran["proxy_headers"] else inner
    scope = {"type": "http", "client": (peer, 1234), "headers": [(b"x-forwarded-for", b"203.0.113.9")], "scheme": "http"}
    asyncio.run(wrapped(scope, None, None))  # type: ignore[arg-type]
    assert seen == ["203.0.113.9" if believed else peer]
