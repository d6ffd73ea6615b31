"""Logging in to the control panel, the session cookie, and who may see and change what."""

from __future__ import annotations

from web.pagekit import ADMIN, STAFF, STRANGER, flash_of, text_of


def test_the_control_panel_sends_strangers_to_the_login_form_and_back(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    response = pages.get("/control/acme/conf/orders/?status=paid", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/control/login?next=/control/acme/conf/orders/%3Fstatus%3Dpaid"
    login = pages.post("/control/login", {"email": ADMIN[0], "password": ADMIN[1], "next": "/control/acme/conf/orders/?status=paid"})
    assert login.status_code == 303 and login.headers["location"] == "/control/acme/conf/orders/?status=paid"


def test_the_session_cookie_is_http_only_and_same_site_lax(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    response = pages.post("/control/login", {"email": ADMIN[0], "password": ADMIN[1], "next": "/control/"})
    cookie = response.headers["set-cookie"].lower()
    assert "bo_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "path=/control" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    for email, password in ((ADMIN[0], "nope-nope"), ("nobody@acme.example", ADMIN[1])):
        refused = pages.post("/control/login", {"email": email, "password": password, "next": "/control/"})
        assert refused.status_code == 401
        assert "The e-mail address or the password is not right." in text_of(refused.text)
        assert "bo_session" not in refused.headers.get("set-cookie", "")


def test_the_login_never_redirects_to_another_site(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    for target in ("https://evil.example/", "//evil.example/control/", "/e/acme/conf/"):
        response = pages.post("/control/login", {"email": ADMIN[0], "password": ADMIN[1], "next": target})
        assert response.headers["location"] == "/control/"


def test_a_user_with_one_event_goes_straight_to_its_dashboard(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    response = pages.get("/control/", follow_redirects=False)
    assert response.headers["location"] == "/control/acme/conf/"


def test_another_organizers_event_is_not_found_for_a_logged_in_user(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login(STRANGER)
    assert pages.get("/control/acme/conf/").status_code == 404
    assert pages.get("/control/acme/conf/orders/").status_code == 404
    assert pages.get("/control/other/fair/").status_code == 200


def test_staff_see_the_event_but_cannot_change_anything(pages, web_shop, load_order) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1, provider="banktransfer")
    code = path.rstrip("/").split("/")[-2]
    pages.login(STAFF)
    detail = pages.get(f"/control/acme/conf/orders/{code}/")
    assert detail.status_code == 200 and "(staff: read only)" in text_of(detail.text) and "Mark paid" not in detail.text
    refused = pages.post(f"/control/acme/conf/orders/{code}/mark-paid")
    assert refused.status_code == 403 and "Only the organizer's admins may do this." in text_of(refused.text)
    assert load_order(code).status == "pending"
    assert pages.post("/control/acme/conf/settings/policies", {"expiry-days": "5"}).status_code == 403


def test_logging_out_ends_the_session(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    cookie = pages.client.cookies.get("bo_session")
    out = pages.post("/control/logout", follow=True)
    assert flash_of(out) == "You are logged out."
    assert pages.get("/control/acme/conf/", follow_redirects=False).status_code == 303
    # The old cookie, kept by whoever copied it, opens nothing either: the session ended on the server.
    pages.client.cookies.set("bo_session", cookie, path="/control")
    again = pages.get("/control/acme/conf/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/control/login")
    assert pages.client.get("/v1/events", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401


def test_an_invalid_session_token_means_logging_in_again(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.client.cookies.set("bo_session", "not-a-token", path="/control")
    response = pages.get("/control/acme/conf/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/control/login")


def test_too_many_login_attempts_are_refused_for_a_while(pages, web_shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE", "2")
    from boxoffice.config import get_settings

    get_settings.cache_clear()
    try:
        for _ in range(2):
            assert pages.post("/control/login", {"email": ADMIN[0], "password": "wrong-one", "next": ""}).status_code == 401
        throttled = pages.post("/control/login", {"email": ADMIN[0], "password": ADMIN[1], "next": ""})
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
        assert "Too many login attempts" in text_of(throttled.text)
    finally:
        monkeypatch.delenv("BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE")
        get_settings.cache_clear()
