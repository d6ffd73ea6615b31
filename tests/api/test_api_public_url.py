"""Absolute links follow BOXOFFICE_PUBLIC_URL, which defaults to where ``boxoffice serve`` listens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from boxoffice import config
from boxoffice.cli import app as cli


@pytest.fixture
def no_public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("BOXOFFICE_PUBLIC_URL", raising=False)
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("0.0.0.0", 8000, "http://127.0.0.1:8000"),
        ("::1", 9000, "http://[::1]:9000"),
        ("tickets.example.org", 80, "http://tickets.example.org:80"),
    ],
)
def test_listen_url_is_where_a_browser_on_this_machine_reaches_serve(host: str, port: int, url: str) -> None:
    assert config.listen_url(host, port) == url


def test_serve_makes_links_follow_its_port(
    database_url: str, no_public_url: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: started.update(kwargs))
    result = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert started["port"] == 8123
    assert config.get_settings().public_url == "http://127.0.0.1:8123"


def test_an_explicit_public_url_wins_over_the_port(
    database_url: str, no_public_url: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_PUBLIC_URL", "https://tickets.example.org/")
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)
    CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert config.get_settings().public_url == "https://tickets.example.org"


def test_order_page_and_3d_secure_redirect_use_the_public_url(
    api: Any, world: Any, no_public_url: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.default_public_url("127.0.0.1", 8123)
    placed = api.post("/v1/orders", 201, doc=world.order_document())
    assert placed["meta"]["order-page"].startswith("http://127.0.0.1:8123/e/acme-x/conf/order/")
    buyer = {"Authorization": f"Bearer {placed['meta']['access-token']}"}
    charge = api.post(
        f"/v1/orders/{placed['data']['id']}/charge", 200,
        doc=world.charge_document("4000000000003220"), headers=buyer,
    )["data"]["attributes"]  # fmt: skip
    assert charge["redirect-url"].startswith("http://127.0.0.1:8123/sandbox/confirm/")


def test_serve_with_several_workers_shares_metrics_through_a_folder_it_cleans_up(
    database_url: str, no_public_url: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set (empty), not deleted: monkeypatch then removes what `serve` puts there, so the folder's
    # name does not leak into the next test of this process (its /metrics would look for it).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    seen: dict[str, Any] = {}

    def run(*args: Any, **kwargs: Any) -> None:
        seen["dir"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        seen["existed"] = os.path.isdir(seen["dir"])

    monkeypatch.setattr("uvicorn.run", run)
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen["existed"]
    from pathlib import Path

    assert not Path(seen["dir"]).exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
