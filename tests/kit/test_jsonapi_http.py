"""HTTP wiring: media types, content negotiation, and every kind of error as a JSON:API document."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from boxoffice.kit.http import install
from boxoffice.kit.negotiation import accept_error, content_type_error
from jsonapi_schema import assert_jsonapi

ORDER = {
    "data": {
        "type": "orders",
        "attributes": {
            "email": "a@example.org",
            "payment-mode": "sandbox",
            "positions": [{"product": "1", "quantity": 2}],
        },
        "relationships": {"event": {"data": {"type": "events", "id": "1"}}},
    }
}


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/vnd.api+json"
    doc = response.json()
    assert_jsonapi(doc)
    assert doc["errors"][0]["status"] == str(status)
    return doc["errors"][0]


def test_fastapi_parses_the_jsonapi_media_type_as_json(jsonapi_client: TestClient) -> None:
    """FastAPI reads any ``application/*+json`` body as JSON: no extra work is needed for ours."""
    for content_type in ("application/vnd.api+json", "application/json", "application/json; charset=utf-8"):
        response = jsonapi_client.post("/v1/orders", json=ORDER, headers={"Content-Type": content_type})
        assert response.status_code == 201, (content_type, response.text)
        assert response.headers["content-type"] == "application/vnd.api+json"
        doc = response.json()
        assert_jsonapi(doc)
        assert doc["data"]["attributes"]["total"] == "98.00"
        assert doc["meta"] == {"access-token": "t0k3n"}
        assert response.headers["location"] == f"/v1/orders/{doc['data']['id']}"


def test_profile_parameter_is_accepted(jsonapi_client: TestClient) -> None:
    headers = {
        "Content-Type": 'application/vnd.api+json; profile="https://example.org/p"',
        "Accept": 'application/vnd.api+json; profile="https://example.org/p"',
    }
    assert jsonapi_client.post("/v1/orders", json=ORDER, headers=headers).status_code == 201


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.api+json; charset=utf-8",
        "application/vnd.api+json; ext=https://jsonapi.org/ext/atomic",
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_unsupported_content_types_are_415(jsonapi_client: TestClient, content_type: str) -> None:
    response = jsonapi_client.post("/v1/orders", content=b'{"data": null}', headers={"Content-Type": content_type})
    assert error_of(response, 415)["code"] == "unsupported-media-type"


def test_a_body_without_content_type_is_415(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.post("/v1/orders", content=b"{}", headers={"Content-Type": ""})
    error_of(response, 415)


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_actions_without_a_body_need_no_content_type(jsonapi_client: TestClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = jsonapi_client.post("/v1/orders/1/cancel", content=b"", headers=headers)
    assert response.status_code == 200
    assert_jsonapi(response.json())
    assert response.json()["data"]["id"] == "1"


def test_an_empty_body_with_a_malformed_jsonapi_type_is_still_415(jsonapi_client: TestClient) -> None:
    headers = {"Content-Type": "application/vnd.api+json; charset=utf-8"}
    error_of(jsonapi_client.post("/v1/orders/1/cancel", headers=headers), 415)


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.api+json; charset=utf-8",
        "application/vnd.api+json; ext=https://jsonapi.org/ext/atomic",
        "application/vnd.api+json; version=1, application/vnd.api+json; charset=utf-8",
        "application/vnd.api+json; charset=utf-8, */*",
    ],
)
def test_accept_with_only_modified_jsonapi_media_types_is_406(jsonapi_client: TestClient, accept: str) -> None:
    assert error_of(jsonapi_client.get("/v1/orders/1", headers={"Accept": accept}), 406)["code"] == "not-acceptable"


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.api+json",
        "application/vnd.api+json; q=0.9",
        "application/vnd.api+json; charset=utf-8, application/vnd.api+json",
        "application/json",
        "*/*",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ],
)
def test_acceptable_accept_headers(jsonapi_client: TestClient, accept: str) -> None:
    assert jsonapi_client.get("/v1/orders/1", headers={"Accept": accept}).status_code == 200


def test_negotiation_rules_directly() -> None:
    assert content_type_error(None, has_body=False, forms=False) is None
    assert content_type_error(None, has_body=True, forms=False)
    assert content_type_error("APPLICATION/VND.API+JSON", has_body=True, forms=False) is None
    assert content_type_error('application/vnd.api+json; ext=""', has_body=True, forms=False) is None
    assert content_type_error("application/x-www-form-urlencoded", has_body=True, forms=True) is None
    assert accept_error(None) is None
    assert accept_error("application/vnd.api+json;profile=x") is None


def test_paths_outside_the_api_are_not_negotiated(jsonapi_client: TestClient) -> None:
    assert jsonapi_client.get("/healthz", headers={"Accept": "application/vnd.api+json; charset=x"}).status_code == 200


def test_provider_webhooks_take_whatever_the_provider_sends(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.post(
        "/v1/webhooks/sandbox", content=b"event=paid", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200
    assert response.json() == {"meta": {"received": 10}}


def test_forms_where_the_app_allows_them(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.post("/v1/forms/login", data={"email": "a@example.org"})
    assert response.status_code == 200
    assert response.json() == {"meta": {"email": "a@example.org"}}


def test_domain_errors_keep_their_status_and_code(jsonapi_client: TestClient) -> None:
    error = error_of(jsonapi_client.post("/v1/orders/3/cancel"), 409)
    assert error == {
        "status": "409",
        "code": "order-paid",
        "title": "State conflict",
        "detail": "A paid order must be refunded first.",
    }
    assert error_of(jsonapi_client.get("/v1/orders/999"), 404)["detail"] == "There is no order 999."


def test_unknown_routes_and_methods(jsonapi_client: TestClient) -> None:
    assert error_of(jsonapi_client.get("/v1/nothing-here"), 404)["code"] == "not-found"
    assert error_of(jsonapi_client.get("/nowhere"), 404)["code"] == "not-found"
    response = jsonapi_client.delete("/v1/orders")
    assert error_of(response, 405)["code"] == "method-not-allowed"
    assert response.headers["allow"] == "GET, POST, OPTIONS"  # of every route at the path, not just the first


def test_options_answers_what_may_be_done_at_a_path(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.options("/v1/orders")
    assert response.status_code == 204 and response.headers["allow"] == "GET, POST, OPTIONS"
    assert jsonapi_client.options("/v1/nothing-here").status_code == 404


def test_unexpected_errors_are_generic_500s_and_logged(
    jsonapi_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="boxoffice.http"):
        response = jsonapi_client.get("/v1/boom")
    error = error_of(response, 500)
    assert error["code"] == "server-error"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert any("hunter2" in (record.exc_text or "") for record in caplog.records)  # the log has the traceback


def test_errors_outside_the_middleware_are_json_api_too() -> None:
    app = FastAPI()
    install(app)

    @app.middleware("http")
    async def broken(request: Any, call_next: Any) -> Any:
        raise RuntimeError("middleware bug")

    response = TestClient(app, raise_server_exceptions=False).get("/v1/anything")
    assert error_of(response, 500)["code"] == "server-error"


def test_an_app_with_install_alone_answers_in_json_api() -> None:
    app = FastAPI()
    install(app)
    jsonapi_client = TestClient(app)
    error_of(jsonapi_client.get("/v1/orders"), 404)
    assert jsonapi_client.get("/openapi.json").status_code == 200
