"""What a browser, an operator and a scraper meet first: the home page, offline API docs, HEAD,
request ids, access logs and /metrics."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from boxoffice import config
from boxoffice.app import create_app
from boxoffice.observability.logs import JsonFormatter, RequestIdFilter


@pytest.fixture
def client(database_url: str) -> TestClient:
    return TestClient(create_app())


def test_home_page_leads_to_the_panel_and_the_shops(client: TestClient, shop) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert 'href="/control/"' in response.text
    assert 'href="/e/acme/conf/"' in response.text and 'href="/docs"' in response.text


def test_docs_load_swagger_ui_from_boxoffice_itself(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text.replace("https://fastapi", "")
    assert "/docs/assets/swagger-ui-bundle.js" in page.text and "/docs/assets/swagger-ui.css" in page.text
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/assets/..%2Fcore.py").status_code == 404


def test_redoc_leads_to_the_docs(client: TestClient) -> None:
    response = client.get("/redoc", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/docs"


@pytest.mark.parametrize("path", ["/", "/healthz", "/docs", "/e/acme/conf/", "/control/login"])
def test_head_answers_like_get_without_a_body(client: TestClient, shop, path: str) -> None:  # type: ignore[no-untyped-def]
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first, second = client.get("/healthz"), client.get("/v1/orders/999999")
    assert first.headers["x-request-id"] and second.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"})
    assert kept.headers["x-request-id"] == "lb-1234.abc"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


def test_access_log_line_has_request_id_method_path_status_and_duration(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="boxoffice.access"):
        response = client.get("/v1/orders/999999", headers={"X-Request-ID": "req-42"})
    [record] = [r for r in caplog.records if r.name == "boxoffice.access"]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert response.status_code in (401, 404)
    assert line["method"] == "GET" and line["path"] == "/v1/orders/999999"
    assert line["status"] == response.status_code and line["duration_ms"] >= 0
    assert line["level"] == "info" and line["time"].endswith("+00:00") and "message" in line


def test_json_log_lines_carry_the_request_id_of_the_request_they_belong_to(
    client: TestClient, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, console_logging
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BOXOFFICE_LOG_FORMAT", "json")
    config.get_settings.cache_clear()
    try:
        console_logging()
        capfd.readouterr()
        client.get("/healthz", headers={"X-Request-ID": "req-json-1"})
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        monkeypatch.delenv("BOXOFFICE_LOG_FORMAT")
        config.get_settings.cache_clear()
    access = [line for line in lines if line["logger"] == "boxoffice.access"]
    assert access and access[-1]["request_id"] == "req-json-1" and access[-1]["path"] == "/healthz"
    assert set(access[-1]) >= {"time", "level", "message", "request_id", "method", "path", "status", "duration_ms"}


def test_logging_set_up_by_someone_else_is_left_alone() -> None:
    from boxoffice.observability.logs import configure_logging

    root = logging.getLogger()
    foreign = logging.NullHandler()
    handlers = list(root.handlers)
    root.handlers[:] = [foreign]
    try:
        configure_logging()
        assert root.handlers == [foreign]
    finally:
        root.handlers[:] = handlers


def test_an_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOFFICE_LOG_FORMAT", "xml")
    config.get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="BOXOFFICE_LOG_FORMAT"):
            config.get_settings()
    finally:
        monkeypatch.delenv("BOXOFFICE_LOG_FORMAT")
        config.get_settings.cache_clear()


def test_metrics_count_requests_by_route_template_and_read_the_books(client: TestClient, shop, uow) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.orders import service as orders
    from boxoffice.orders.service import LineItem
    from boxoffice.payments import service as payments

    with uow() as s:
        order = orders.place_order(s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer")
        payment = payments.start_payment(s, order.id, provider="manual", actor="buyer")
        payments.confirm_payment(s, payment.id, actor="user:admin")
    client.get("/e/acme/conf/")
    body = client.get("/metrics")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/plain")
    text = body.text
    assert 'boxoffice_http_requests_total{method="GET",route="/e/{organizer}/{event}/",status="200"}' in text
    assert 'boxoffice_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/e/{organizer}/{event}/"}' in text
    assert "boxoffice_orders_placed_total 1.0" in text
    assert 'boxoffice_payments_confirmed_total{provider="manual"} 1.0' in text
    assert "boxoffice_job_queue_depth" in text
    assert "/e/acme/conf/" not in text.replace("/e/{organizer}/{event}/", "")
