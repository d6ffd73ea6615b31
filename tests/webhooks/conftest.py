from collections.abc import Iterator

import pytest

from api.conftest import api, app, world
from background import deferred_jobs, pg, run_jobs, smtp, travel
from boxoffice import config

__all__ = ["allow_loopback", "api", "app", "deferred_jobs", "pg", "run_jobs", "smtp", "travel", "world"]


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let webhooks reach this machine's test receivers, as a private deployment would allow them."""
    monkeypatch.setenv("BOXOFFICE_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    config.get_settings.cache_clear()
    yield
    monkeypatch.delenv("BOXOFFICE_WEBHOOK_ALLOWED_HOSTS")
    config.get_settings.cache_clear()
