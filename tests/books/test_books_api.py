"""The books under /v1: exports stream, the report for organizers, the personal data download and the shred."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from boxoffice.accounts.auth import issue_user_token
from boxoffice.accounts.models import Membership, User
from boxoffice.app import create_app
from boxoffice.catalogue.models import Event
from boxoffice.catalogue.service import get_or_create_organizer
from boxoffice.jobs.models import Job
from boxoffice.kit.clock import now
from boxoffice.orders.models import Order
from jsonapi_schema import assert_jsonapi

MEDIA_TYPE = "application/vnd.api+json"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tokens(uow, sold) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Authorization headers of the event's admin and staff, and of another organizer's admin."""
    with uow() as s:
        own = s.get(Event, sold.event_id).organizer_id  # type: ignore[union-attr]
        other = get_or_create_organizer(s, "globex").id
        users = {}
        for who, organizer, role in (("admin", own, "admin"), ("staff", own, "staff"), ("stranger", other, "admin")):
            user = User(email=f"{who}@books.example", password_hash="-")
            s.add(user)
            s.flush()
            s.add(Membership(user_id=user.id, organizer_id=organizer, role=role))
            users[who] = {"Authorization": f"Bearer {issue_user_token(s, user)}"}
        return users


def _document(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    document: dict[str, Any] = response.json()
    assert_jsonapi(document)
    return document


def test_an_export_streams_as_a_download(client: TestClient, sold, tokens) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/events/{sold.event_id}/exports/orders", headers=tokens["staff"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="acme-conf-orders.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == list(sold.all)
    as_json = client.get(
        f"/v1/events/{sold.event_id}/exports/refunds", params={"format": "json"}, headers=tokens["staff"]
    )
    assert as_json.headers["content-type"] == "application/json"
    assert [r["full_id"] for r in json.loads(as_json.content)] == [f"{sold.paid}-R-1", f"{sold.canceled}-R-1"]
    xlsx = client.get(
        f"/v1/events/{sold.event_id}/exports/payments", params={"format": "xlsx"}, headers=tokens["admin"]
    )
    assert zipfile.ZipFile(io.BytesIO(xlsx.content)).read("xl/worksheets/sheet1.xml").count(b"<row ") == 5
    bank = client.get(f"/v1/events/{sold.event_id}/exports/bank-transactions", headers=tokens["staff"])
    assert bank.status_code == 200 and bank.content.decode("utf-8-sig").startswith("id,bank_import,")


def test_an_export_leaves_test_mode_orders_out_unless_asked(client: TestClient, sold, rehearsed: str, tokens) -> None:  # type: ignore[no-untyped-def]
    path = f"/v1/events/{sold.event_id}/exports/refunds"
    plain = client.get(path, params={"format": "json"}, headers=tokens["staff"])
    assert [r["order_code"] for r in json.loads(plain.content)] == [sold.paid, sold.canceled]
    asked = client.get(path, params={"format": "json", "include-test-mode": "true"}, headers=tokens["staff"])
    assert [r["order_code"] for r in json.loads(asked.content)] == [sold.paid, sold.canceled, rehearsed]
    spec = client.get("/openapi.json").json()["paths"]["/v1/events/{event_id}/exports/{kind}"]["get"]
    assert "include-test-mode" in {p["name"] for p in spec["parameters"]}


def test_export_refusals_are_json_api_errors(client: TestClient, sold, tokens) -> None:  # type: ignore[no-untyped-def]
    unknown = _document(client.get(f"/v1/events/{sold.event_id}/exports/tickets", headers=tokens["admin"]), 404)
    assert unknown["errors"][0]["code"] == "unknown-export"
    bad_format = client.get(f"/v1/events/{sold.event_id}/exports/orders?format=pdf", headers=tokens["admin"])
    assert _document(bad_format, 400)["errors"][0]["source"] == {"parameter": "format"}
    # Another organizer's event is not there at all for the caller, and nobody anonymous gets anything.
    _document(client.get(f"/v1/events/{sold.event_id}/exports/orders", headers=tokens["stranger"]), 404)
    _document(client.get(f"/v1/events/{sold.event_id}/exports/orders"), 401)


def test_organizers_read_their_events_verification(client: TestClient, uow, sold, tokens) -> None:  # type: ignore[no-untyped-def]
    path = f"/v1/events/{sold.event_id}/books-verification"
    report = _document(client.get(path, headers=tokens["staff"]), 200)["data"]
    assert (report["type"], report["id"]) == ("books-verifications", str(sold.event_id))
    assert report["attributes"]["ok"] is True
    assert [c["name"] for c in report["attributes"]["checks"]] == [
        "balances",
        "totals",
        "position-prices",
        "quotas",
        "refund-limits",
        "refunded-payments",
        "audit-trail",
        "export-totals",
    ]
    with uow() as s:
        s.execute(update(Order).where(Order.code == sold.paid).values(refund_total=0))
    broken = _document(client.get(path, headers=tokens["staff"]), 200)["data"]["attributes"]
    balances = next(c for c in broken["checks"] if c["name"] == "balances")
    assert broken["ok"] is False and balances["ok"] is False
    assert {d["field"] for d in balances["drifts"]} >= {"refund_total"}
    _document(client.get(path, headers=tokens["stranger"]), 404)


def _shred_document(**attributes: bool) -> dict[str, Any]:
    # `event-shred`; the bad-input test below still sends the old `event-shreds`.
    return {"data": {"type": "event-shred", "attributes": {k.replace("_", "-"): v for k, v in attributes.items()}}}


def test_admins_download_then_shred(client: TestClient, uow, sold, tokens) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Event).where(Event.id == sold.event_id).values(date_from=now() - timedelta(days=2)))
    download = client.get(
        f"/v1/events/{sold.event_id}/personal-data", params={"include-orders": "true"}, headers=tokens["admin"]
    )
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    people = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("personal-data.json"))
    assert {o["email"] for o in people} == {
        "paid@example.org",
        "over@example.org",
        "cancel@example.org",
        "pending@example.org",
    }
    _document(client.get(f"/v1/events/{sold.event_id}/personal-data", headers=tokens["staff"]), 403)

    path = f"/v1/events/{sold.event_id}/shred"
    headers = {**tokens["admin"], "Content-Type": MEDIA_TYPE}
    _document(client.post(path, json=_shred_document(), headers={**tokens["staff"], "Content-Type": MEDIA_TYPE}), 403)
    accepted = client.post(path, json=_shred_document(include_orders=True), headers=headers)
    job = _document(accepted, 202)["data"]
    assert job["type"] == "jobs" and accepted.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["attributes"]["kind"] == "books.shred" and job["attributes"]["total"] == 4
    with uow() as s:
        queued = s.get(Job, int(job["id"]))
        assert queued is not None and queued.params == {
            "event_id": sold.event_id,
            "include_orders": True,
            "force": False,
        }
        assert queued.created_by == "user:admin@books.example"


def test_shredding_a_running_event_needs_force(client: TestClient, uow, sold, tokens) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Event).where(Event.id == sold.event_id).values(date_to=now() + timedelta(days=2)))
    headers = {**tokens["admin"], "Content-Type": MEDIA_TYPE}
    refused = _document(client.post(f"/v1/events/{sold.event_id}/shred", json=_shred_document(), headers=headers), 409)
    assert refused["errors"][0]["code"] == "shred-refused"
    bad = {"data": {"type": "event-shreds", "attributes": {"include-orders": "maybe"}}}
    refused_value = _document(client.post(f"/v1/events/{sold.event_id}/shred", json=bad, headers=headers), 422)
    assert refused_value["errors"][0]["source"]["pointer"] == "/data/attributes/include-orders"
    forced = client.post(f"/v1/events/{sold.event_id}/shred", json=_shred_document(force=True), headers=headers)
    assert _document(forced, 202)["data"]["attributes"]["kind"] == "books.shred"


def test_the_shred_runs_on_the_job_queue(client: TestClient, uow, sold, tokens, run_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Event).where(Event.id == sold.event_id).values(date_from=now() - timedelta(days=2)))
    headers = {**tokens["admin"], "Content-Type": MEDIA_TYPE}
    accepted = client.post(
        f"/v1/events/{sold.event_id}/shred", json=_shred_document(include_orders=True), headers=headers
    )
    job_id = _document(accepted, 202)["data"]["id"]
    job = _document(client.get(f"/v1/jobs/{job_id}", headers=tokens["staff"]), 200)["data"]["attributes"]
    assert (job["state"], job["progress"], job["total"]) == ("done", 4, 4)
    assert job["result"]["buyer_fields"] == 4
    with uow() as s:
        assert set(s.scalars(select(Order.email))) == {None}
    report = _document(client.get(f"/v1/events/{sold.event_id}/books-verification", headers=tokens["staff"]), 200)
    assert report["data"]["attributes"]["ok"] is True
