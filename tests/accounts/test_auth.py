from datetime import timedelta

import jwt
import pytest

from boxoffice.accounts import auth
from boxoffice.accounts.service import create_api_token, create_user, secret_key
from boxoffice.catalogue.service import get_or_create_organizer
from boxoffice.errors import NotAuthenticated, PermissionDenied
from boxoffice.kit import clock


def test_user_token_carries_the_users_roles(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        user, org, _ = create_user(s, email="a@example.org", password="password1", organizer_slug="acme")
        token = auth.issue_user_token(s, user)
    with uow() as s:
        principal = auth.resolve(s, auth.parse_authorization(f"JWT {token}"))
    assert principal.kind == "user" and principal.actor == "user:a@example.org"
    principal.require_organizer(org.id, admin=True)
    with pytest.raises(PermissionDenied):
        principal.require_organizer(org.id + 1)


def test_staff_may_read_but_not_administer(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        user, org, _ = create_user(s, email="s@example.org", password="password1", organizer_slug="acme", role="staff")
        principal = auth.resolve(s, auth.issue_user_token(s, user))
    principal.require_organizer(org.id)
    with pytest.raises(PermissionDenied, match="admins"):
        principal.require_organizer(org.id, admin=True)


def test_api_tokens_resolve_to_their_organizer(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        get_or_create_organizer(s, "acme")
        token = create_api_token(s, organizer_slug="acme", name="ci")
    with uow() as s:
        principal = auth.resolve(s, auth.parse_authorization(f"Bearer {token}"))
        assert principal.kind == "token" and principal.actor == "token:ci"
        with pytest.raises(NotAuthenticated):
            auth.resolve(s, token + "x")


def test_buyer_token_grants_its_order_only(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        principal = auth.resolve(s, auth.issue_order_token(s, 7, "ABCDE"))
    assert principal.kind == "buyer" and principal.order_id == 7
    principal.require_order(7, organizer_id=1)
    with pytest.raises(PermissionDenied):
        principal.require_order(8, organizer_id=1)
    with pytest.raises(PermissionDenied):
        principal.require_organizer(1)  # an authenticated buyer is no team member
    assert principal.roles == {}


def test_expired_forged_and_foreign_tokens_are_refused(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        user, _, _ = create_user(s, email="a@example.org", password="password1", organizer_slug="acme")
        clock.travel(-13 * 3600)  # issued 13 hours ago: past its 12-hour lifetime
        try:
            token = auth.issue_user_token(s, user)
        finally:
            clock.travel(0)
        forged = jwt.encode({"sub": str(user.id), "typ": "user", "exp": clock.now() + timedelta(hours=1)},
                            "a-different-key-that-is-long-enough-0123456789", algorithm="HS256")
        assert secret_key(s) != "a-different-key-that-is-long-enough-0123456789"
    with uow() as s, pytest.raises(NotAuthenticated, match="expired"):
        auth.resolve(s, token)
    with uow() as s, pytest.raises(NotAuthenticated, match="not valid"):
        auth.resolve(s, forged)
    with pytest.raises(NotAuthenticated):
        auth.parse_authorization("Basic abc")
    assert auth.parse_authorization(None) is None
