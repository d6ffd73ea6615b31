"""Outgoing webhooks reach public addresses only (issue 17, point 1): no port scans of the server's
network through an organizer's URL, at registration, at change, and when a delivery connects."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from boxoffice import config
from boxoffice.payments import service as payments
from boxoffice.webhooks import destinations
from boxoffice.webhooks.destinations import RefusedDestination, check_name, connect_address, literal_address
from boxoffice.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from boxoffice.webhooks.tasks import post
from fakes.servers import serve_asgi

ENDPOINTS = "/v1/webhook-endpoints"
REFUSED_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://127.0.0.1:5432/",
    "http://[::1]/",
    "http://2130706433/",
    "http://127.1/",
    "http://0x7f.1/",
    "http://0/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://100.64.0.1/",
    "http://192.168.1.1/",
    "http://localhost:8000/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
]


def _doc(url: str, **extra: Any) -> dict[str, Any]:
    return {"data": {"type": "webhook-endpoints", "attributes": {"url": url, "event-types": ["order.paid"]}, **extra}}


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_private_loopback_link_local_and_metadata_destinations_are_refused_at_registration(
    api, world, uow, url: str
) -> None:  # type: ignore[no-untyped-def]
    refused = api.post(ENDPOINTS, 422, doc=_doc(url), headers=world.headers("admin_x"))
    [error] = refused["errors"]
    assert error["source"] == {"pointer": "/data/attributes/url"} and error["code"] == "refused-destination"
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_a_change_to_a_refused_url_is_refused_and_not_stored(api, world, uow) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin_x")
    endpoint = api.post(ENDPOINTS, 201, doc=_doc("https://hooks.example.org/in"), headers=admin)["data"]
    change = _doc("http://169.254.169.254/", id=endpoint["id"])
    del change["data"]["attributes"]["event-types"]
    refused = api.patch(f"{ENDPOINTS}/{endpoint['id']}", 422, doc=change, headers=admin)
    assert refused["errors"][0]["source"] == {"pointer": "/data/attributes/url"}
    with uow() as s:
        assert s.scalar(select(WebhookEndpoint.url)) == "https://hooks.example.org/in"


def test_allowed_hosts_and_cidrs_let_a_private_deployment_through(monkeypatch, api, world) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BOXOFFICE_WEBHOOK_ALLOWED_HOSTS", "10.1.0.0/16, hooks.lan")
    config.get_settings.cache_clear()
    try:
        admin = world.headers("admin_x")
        api.post(ENDPOINTS, 201, doc=_doc("http://10.1.2.3:8080/in"), headers=admin)
        assert check_name("hooks.lan", destinations.allowance()) is None
        api.post(ENDPOINTS, 422, doc=_doc("http://10.2.0.1/in"), headers=admin)
    finally:
        monkeypatch.delenv("BOXOFFICE_WEBHOOK_ALLOWED_HOSTS")
        config.get_settings.cache_clear()


def test_every_spelling_of_an_address_is_read_as_a_resolver_reads_it() -> None:
    assert literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("127.1") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("[::1]") == ipaddress.ip_address("::1")
    assert literal_address("hooks.example.org") is None


def test_a_name_that_resolves_to_a_private_address_at_delivery_is_not_connected_to(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # DNS rebinding: public when registered, loopback when the delivery connects.
    monkeypatch.setattr(destinations, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    with pytest.raises(RefusedDestination):
        connect_address("https://rebind.example.org/hooks")
    result = post("https://rebind.example.org/hooks", "whsec_x", {"id": "evt_1"}, delivery_id=1)
    assert result.status is None and result.error is not None and "Refused destination" in result.error


def test_a_delivery_connects_to_the_address_it_checked_and_keeps_the_host(monkeypatch, allow_loopback) -> None:  # type: ignore[no-untyped-def]
    hosts: list[str] = []

    async def hook(request: Request) -> PlainTextResponse:
        hosts.append(request.headers["host"])
        return PlainTextResponse("thanks")

    lookups = iter([[ipaddress.ip_address("127.0.0.1")], [ipaddress.ip_address("10.9.9.9")]])
    monkeypatch.setattr(destinations, "resolve", lambda host, port: next(lookups))
    with serve_asgi(Starlette(routes=[Route("/hooks", hook, methods=["POST"])])) as base:
        port = base.rsplit(":", 1)[1]
        result = post(f"http://hooks.example.org:{port}/hooks", "whsec_x", {"id": "evt_1"}, delivery_id=1)
    # One lookup, checked and connected to: the second answer (a rebinding) is never asked for.
    assert result.status == 200 and hosts == [f"hooks.example.org:{port}"]


def test_a_delivery_to_a_refused_address_is_logged_as_refused_and_never_sent(api, world, uow, run_jobs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin_x")
    monkeypatch.setattr(destinations, "resolve", lambda host, port: [])  # does not resolve when registered
    api.post(ENDPOINTS, 201, doc=_doc("http://hooks.example.org/in"), headers=admin)
    monkeypatch.setattr(destinations, "resolve", lambda host, port: [ipaddress.ip_address("10.0.0.7")])
    with uow() as s:
        s.execute(
            WebhookEndpoint.__table__.update().values(event_types=["payment.confirmed"])  # type: ignore[attr-defined]
        )
        payment = payments.start_payment(s, world.order_a, provider="manual", actor="user:admin")
        payments.confirm_payment(s, payment.id, actor="user:admin")
    with uow() as s:
        [attempt] = s.scalars(select(WebhookAttempt)).all()
        assert attempt.response_status is None and "10.0.0.7 is a private address" in (attempt.error or "")


def test_an_admin_deletes_an_endpoint_with_its_delivery_log(api, world, uow) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin_x")
    endpoint = api.post(ENDPOINTS, 201, doc=_doc("https://hooks.example.org/in"), headers=admin)["data"]
    with uow() as s:
        s.execute(WebhookEndpoint.__table__.update().values(event_types=["payment.confirmed"]))  # type: ignore[attr-defined]
        payment = payments.start_payment(s, world.order_a, provider="manual", actor="user:admin")
        payments.confirm_payment(s, payment.id, actor="user:admin")
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    path = f"{ENDPOINTS}/{endpoint['id']}"
    assert api.request("DELETE", path, headers=world.headers("staff_x")).status_code == 403
    assert api.request("DELETE", path, headers=world.headers("admin_y")).status_code == 404
    assert api.request("DELETE", path, headers=admin).status_code == 204
    api.get(path, 404, headers=admin)
    assert api.request("DELETE", path, headers=admin).status_code == 404
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
