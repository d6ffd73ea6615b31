"""Configuration from the environment (names fixed in CONTRACT.md); no other module reads os.environ."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_DATABASE_URL = "sqlite:///boxoffice.sqlite3"
DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    smtp_url: str | None
    secret_key: str | None
    stripe_api_base: str | None
    paypal_api_base: str | None
    stripe_js_url: str
    public_url: str
    login_attempts_per_minute: int


def _from_env() -> Settings:
    env = os.environ
    return Settings(
        database_url=env.get("BOXOFFICE_DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=env.get("BOXOFFICE_REDIS_URL") or None,
        smtp_url=env.get("BOXOFFICE_SMTP_URL") or None,
        secret_key=env.get("BOXOFFICE_SECRET_KEY") or None,
        stripe_api_base=env.get("BOXOFFICE_STRIPE_API_BASE") or None,
        paypal_api_base=env.get("BOXOFFICE_PAYPAL_API_BASE") or None,
        stripe_js_url=env.get("BOXOFFICE_STRIPE_JS_URL") or DEFAULT_STRIPE_JS_URL,
        public_url=(env.get("BOXOFFICE_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
        login_attempts_per_minute=int(env.get("BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE") or 10),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Tests call ``get_settings.cache_clear()`` after changing env."""
    return _from_env()
