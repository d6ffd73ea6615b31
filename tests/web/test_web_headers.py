"""Security headers (issue 17, point 4): pages cannot be framed or sniffed, and run under a strict CSP."""

from __future__ import annotations

from boxoffice import config
from boxoffice.web.headers import content_security_policy


def _directives(policy: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def test_pages_are_never_framed_sniffed_or_given_inline_scripts(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    for path in ("/control/login", "/e/acme/conf/"):
        response = pages.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        policy = _directives(response.headers["content-security-policy"])
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert policy["default-src"] == "'self'" and "'unsafe-inline'" not in policy["script-src"]


def test_api_answers_are_not_sniffed_either(pages) -> None:  # type: ignore[no-untyped-def]
    response = pages.client.get("/v1/orders")
    assert response.status_code == 401 and response.headers["x-content-type-options"] == "nosniff"


def test_stripe_js_may_load_from_the_configured_origin(monkeypatch, pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BOXOFFICE_STRIPE_JS_URL", "http://127.0.0.1:8421/js.stripe.com/v3/")
    config.get_settings.cache_clear()
    try:
        policy = _directives(pages.client.get("/control/login").headers["content-security-policy"])
    finally:
        monkeypatch.delenv("BOXOFFICE_STRIPE_JS_URL")
        config.get_settings.cache_clear()
    for directive in ("script-src", "frame-src", "connect-src"):
        assert policy[directive] == "'self' http://127.0.0.1:8421", directive
    real = _directives(content_security_policy("https://js.stripe.com/v3/"))
    assert real["script-src"] == "'self' https://js.stripe.com"
    assert "https://hooks.stripe.com" in real["frame-src"] and "https://api.stripe.com" in real["connect-src"]
