"""Configuration from the environment (names fixed in CONTRACT.md); no other module reads os.environ."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_DATABASE_URL = "sqlite:///boxoffice.sqlite3"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    smtp_url: str | None
    secret_key: str | None
    stripe_api_base: str | None
    paypal_api_base: str | None
    public_url: str
    login_attempts_per_minute: int
    log_format: str
    # prometheus-client's own variable: where processes of one ``serve --workers N`` share their metrics.
    metrics_dir: str | None
    # Hosts and CIDRs outgoing webhooks may reach although they are private (tests, private networks).
    webhook_allowed_hosts: tuple[str, ...] = ()
    # Addresses and CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: none.
    trusted_proxies: tuple[str, ...] = ()
    # Where checkout pages load Stripe.js from; its origin is allowed by the pages' CSP.
    stripe_js_url: str = "https://js.stripe.com/v3/"


def _from_env() -> Settings:
    env = os.environ
    return Settings(
        database_url=env.get("BOXOFFICE_DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=env.get("BOXOFFICE_REDIS_URL") or None,
        smtp_url=env.get("BOXOFFICE_SMTP_URL") or None,
        secret_key=env.get("BOXOFFICE_SECRET_KEY") or None,
        stripe_api_base=env.get("BOXOFFICE_STRIPE_API_BASE") or None,
        paypal_api_base=env.get("BOXOFFICE_PAYPAL_API_BASE") or None,
        public_url=(env.get("BOXOFFICE_PUBLIC_URL") or listen_url(DEFAULT_HOST, DEFAULT_PORT)).rstrip("/"),
        login_attempts_per_minute=int(env.get("BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE") or 10),
        log_format=_log_format(env.get("BOXOFFICE_LOG_FORMAT")),
        metrics_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        webhook_allowed_hosts=_list(env.get("BOXOFFICE_WEBHOOK_ALLOWED_HOSTS")),
        trusted_proxies=_list(env.get("BOXOFFICE_TRUSTED_PROXIES")),
        stripe_js_url=env.get("BOXOFFICE_STRIPE_JS_URL") or "https://js.stripe.com/v3/",
    )


def _list(value: str | None) -> tuple[str, ...]:
    """The items of a comma-separated setting, stripped, empty ones left out."""
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _log_format(value: str | None) -> str:
    fmt = (value or "text").strip().lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"BOXOFFICE_LOG_FORMAT must be text or json, not {value!r}")
    return fmt


def listen_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches ``serve --host HOST --port PORT`` at."""
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: this machine is reachable at loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def default_public_url(host: str, port: int) -> None:
    """Make links follow where ``serve`` listens, unless BOXOFFICE_PUBLIC_URL says otherwise.

    Set in the environment so every process ``serve`` starts (``--workers N``) inherits it.
    """
    os.environ.setdefault("BOXOFFICE_PUBLIC_URL", listen_url(host, port))
    get_settings.cache_clear()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Tests call ``get_settings.cache_clear()`` after changing env."""
    return _from_env()
