"""Access to the real components tests need (PostgreSQL, Redis, Chromium).

Where one is missing a test skips with the reason — on a newcomer's laptop — but under ``CI=true`` it
fails, because CI installs and starts them all and a skip there would hide a broken set-up.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str:
    url = os.environ.get("BOXOFFICE_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        unavailable("needs PostgreSQL: set BOXOFFICE_TEST_DATABASE_URL=postgresql+psycopg://…")
    return url


def redis_url() -> str:
    url = os.environ.get("BOXOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    host, port = "127.0.0.1", 6379
    try:
        with socket.create_connection((host, port), timeout=0.5):
            pass
    except OSError:
        unavailable(f"needs Redis on {host}:{port}")
    return url


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        unavailable("needs Debian's chromium (apt-get install chromium)")
    return path
