"""The bank transfer API: upload a statement, follow its job, work through what matched nothing, and
fetch the refund file — as the organizer's team, with every answer a valid JSON:API document."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from boxoffice.accounts.auth import issue_order_token, issue_user_token
from boxoffice.accounts.models import Membership, User
from boxoffice.app import create_app
from boxoffice.catalogue.service import get_or_create_organizer
from boxoffice.orders.models import Order
from boxoffice.payments.refunding import refund_order
from jsonapi_schema import assert_jsonapi

MEDIA_TYPE = "application/vnd.api+json"


class Client:
    """Requests as a named caller; every JSON answer is checked against the JSON:API schema."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def call(self, method: str, path: str, who: str, doc: dict[str, Any] | None = None, **kw: Any) -> Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if doc is not None:
            headers["Content-Type"] = MEDIA_TYPE
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, path, json=doc, headers=headers, **kw)

    def doc(self, response: Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        document: dict[str, Any] = response.json()
        assert_jsonapi(document)
        return document


@pytest.fixture
def api(bank, run_jobs) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """The API with the demo organizer's admin and staff, another organizer's admin, and jobs run at once."""
    with bank.uow() as s:
        own = bank.shop.event.organizer_id
        other = get_or_create_organizer(s, "other").id
        tokens = {}
        for who, organizer_id, role in (("admin", own, "admin"), ("staff", own, "staff"), ("stranger", other, "admin")):
            user = User(email=f"{who}@example.org", password_hash="-")
            s.add(user)
            s.flush()
            s.add(Membership(user_id=user.id, organizer_id=organizer_id, role=role))
            tokens[who] = issue_user_token(s, user)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield Client(client, tokens)


def _upload(content: bytes, filename: str = "march.csv") -> dict[str, Any]:
    encoded = base64.b64encode(content).decode()
    return {"data": {"type": "bank-imports", "attributes": {"filename": filename, "content": encoded}}}


def test_an_uploaded_statement_is_imported_by_its_job_and_what_waits_can_be_assigned(bank, api) -> None:  # type: ignore[no-untyped-def]
    paid, other = bank.order(), bank.order()
    reference = bank.choose_transfer(paid)
    bank.choose_transfer(other)
    statement = bank.csv(bank.entry("49.00", reference), bank.entry("49.00", "Tickets for Bert"))
    event = bank.shop.event_id

    accepted = api.doc(api.call("POST", f"/v1/events/{event}/bank-imports", "admin", _upload(statement)), 202)
    resource = accepted["data"]
    assert resource["type"] == "bank-imports" and resource["attributes"]["filename"] == "march.csv"
    [job] = accepted["included"]
    assert job["type"] == "jobs" and resource["relationships"]["job"]["data"] == {"type": "jobs", "id": job["id"]}

    done = api.doc(api.call("GET", f"/v1/bank-imports/{resource['id']}", "staff"), 200)["data"]["attributes"]
    assert (done["state"], done["format"], done["lines"], done["progress"]) == ("done", "csv", 2, 2)
    assert done["counts"] == {"matched": 1, "no-match": 1} and done["error"] is None
    assert api.doc(api.call("GET", f"/v1/jobs/{job['id']}", "staff"), 200)["data"]["attributes"]["state"] == "done"
    listed = api.doc(api.call("GET", f"/v1/events/{event}/bank-imports", "staff"), 200)
    assert [item["id"] for item in listed["data"]] == [resource["id"]] and listed["meta"]["count"] == 1

    waiting = api.doc(
        api.call("GET", f"/v1/events/{event}/bank-transactions", "staff", params={"filter[state]": "no-match"}), 200
    )["data"]
    [line] = waiting
    assert line["attributes"]["amount"] == "49.00" and line["attributes"]["remittance"] == "Tickets for Bert"
    assert "names no reference" in line["attributes"]["reason"]

    assign = {
        "data": {
            "type": "bank-transaction-assign",
            "relationships": {"order": {"data": {"type": "orders", "id": str(other)}}},
        }
    }
    forbidden = api.call("POST", f"/v1/bank-transactions/{line['id']}/assign", "staff", assign)
    assert api.doc(forbidden, 403)["errors"][0]["code"] == "permission-denied"
    booked = api.doc(api.call("POST", f"/v1/bank-transactions/{line['id']}/assign", "admin", assign), 200)["data"]
    assert booked["attributes"]["state"] == "matched"
    assert booked["relationships"]["orders"]["data"] == [{"type": "orders", "id": str(other)}]
    [match] = booked["attributes"]["matches"]
    assert match["order"] == str(other) and match["amount"] == "49.00" and match["payment"]
    assert bank.order_row(other).status == "paid"
    again = api.call("POST", f"/v1/bank-transactions/{line['id']}/assign", "admin", assign)
    assert api.doc(again, 409)["errors"][0]["code"] == "bank-transaction-not-open"
    assert api.doc(api.call("GET", f"/v1/events/{event}/bank-transactions", "staff"), 200)["meta"]["count"] == 2


def test_a_bank_fee_is_discarded_with_a_comment(bank, api) -> None:  # type: ignore[no-untyped-def]
    bank.import_file(bank.csv(bank.entry("-4.90", "Kontofuehrung")))
    [line] = bank.transactions()
    discard = {"data": {"type": "bank-transaction-discard", "attributes": {"comment": "bank fee"}}}
    done = api.doc(api.call("POST", f"/v1/bank-transactions/{line.id}/discard", "admin", discard), 200)["data"]
    assert done["attributes"]["state"] == "discarded" and done["attributes"]["resolved-by"] == "user:admin@example.org"
    bare = api.call("POST", f"/v1/bank-transactions/{line.id}/discard", "admin")  # no body: idempotent
    assert api.doc(bare, 200)["data"]["attributes"]["state"] == "discarded"


def test_imports_and_lines_of_other_organizers_do_not_exist_for_a_caller(bank, api) -> None:  # type: ignore[no-untyped-def]
    report = bank.import_file(bank.csv(bank.entry("1.00", "x")))
    [line] = bank.transactions()
    event = bank.shop.event_id
    for path in (
        f"/v1/bank-imports/{report.import_id}",
        f"/v1/bank-transactions/{line.id}",
        f"/v1/events/{event}/bank-imports",
    ):
        assert api.doc(api.call("GET", path, "stranger"), 404)["errors"][0]["code"] == "not-found"
    upload = api.call("POST", f"/v1/events/{event}/bank-imports", "staff", _upload(b"x;y\n"))
    assert api.doc(upload, 403)["errors"][0]["code"] == "permission-denied"


def test_uploads_that_cannot_be_imported_are_refused_or_reported(bank, api, sample) -> None:  # type: ignore[no-untyped-def]
    event = bank.shop.event_id
    garbled = {"data": {"type": "bank-imports", "attributes": {"filename": "x.csv", "content": "%%%"}}}
    error = api.doc(api.call("POST", f"/v1/events/{event}/bank-imports", "admin", garbled), 422)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/content"} and error["code"] == "invalid-base64"
    empty = api.doc(api.call("POST", f"/v1/events/{event}/bank-imports", "admin", _upload(b" ")), 422)["errors"][0]
    assert error["source"]["pointer"] == "/data/attributes/content" and "empty" in empty["detail"]
    # A file that is broken as a whole is accepted, and its import says why nothing was imported.
    accepted = api.doc(
        api.call("POST", f"/v1/events/{event}/bank-imports", "admin", _upload(sample("bad_truncated.xml"))), 202
    )
    found = api.doc(api.call("GET", f"/v1/bank-imports/{accepted['data']['id']}", "admin"), 200)["data"]["attributes"]
    assert found["state"] == "failed" and "The XML is broken" in found["error"] and found["counts"] == {}
    assert bank.transactions() == []


def test_a_column_mapping_reads_a_file_whose_columns_are_not_recognised(bank, api) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    content = f"Foo;Bar;Baz\n2024-03-08;{reference};49.00\n".encode()
    upload = _upload(content)
    upload["data"]["attributes"]["column-mapping"] = {"booked-on": "Foo", "remittance": ["Bar"], "amount": 2}
    accepted = api.doc(api.call("POST", f"/v1/events/{bank.shop.event_id}/bank-imports", "admin", upload), 202)
    found = api.doc(api.call("GET", f"/v1/bank-imports/{accepted['data']['id']}", "admin"), 200)["data"]["attributes"]
    assert found["counts"] == {"matched": 1}
    assert bank.order_row(order_id).status == "paid"


@pytest.mark.parametrize(
    ("mapping", "pointer"),
    [
        ({"booked-on": "Foo", "remittance": "Bar"}, "/data/attributes/column-mapping"),
        ({"booked-on": "Foo", "remittance": [], "amount": 2}, "/data/attributes/column-mapping/remittance"),
        ({"booked-on": "Foo", "remittance": "Bar", "amount": -1}, "/data/attributes/column-mapping/amount"),
        ({"booked-on": "Foo", "remittance": "Bar", "amount": 2, "colour": 1}, "/data/attributes/column-mapping/colour"),
    ],
)
def test_a_wrong_column_mapping_is_refused_naming_the_member(bank, api, mapping, pointer) -> None:  # type: ignore[no-untyped-def]
    upload = _upload(b"Foo;Bar;Baz\n")
    upload["data"]["attributes"]["column-mapping"] = mapping
    refused = api.call("POST", f"/v1/events/{bank.shop.event_id}/bank-imports", "admin", upload)
    assert api.doc(refused, 422)["errors"][0]["source"]["pointer"].startswith(pointer)
    assert bank.transactions() == []


def test_the_refund_file_is_downloaded_once_and_can_be_written_again(bank, api) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    bank.import_file(bank.csv(bank.entry("49.00", reference)))
    with bank.uow() as s:
        refund_order(s, order_id, amount=Decimal("19.00"), actor=bank.admin)
    path = f"/v1/events/{bank.shop.event_id}/bank-refunds.xml"
    assert api.doc(api.call("GET", path, "staff"), 403)["errors"][0]["code"] == "permission-denied"
    first = api.call("GET", path, "admin")
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/xml")
    batch = first.headers["boxoffice-refund-batch"]
    assert f'filename="{batch}.xml"' in first.headers["content-disposition"] and b"<InstdAmt" in first.content
    assert bank.refunds(order_id) == [("transit", Decimal("19.00"))]
    nothing = api.doc(api.call("GET", path, "admin"), 409)["errors"][0]
    assert nothing["code"] == "no-refunds-to-export"
    again = api.call("GET", path, "admin", params={"batch": batch})
    assert again.status_code == 200 and again.content == first.content
    as_csv = api.call("GET", f"/v1/events/{bank.shop.event_id}/bank-refunds.csv", "admin", params={"batch": batch})
    assert as_csv.headers["content-type"].startswith("text/csv") and reference in as_csv.text


def test_the_buyer_gives_the_account_for_a_refund(bank, api) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    bank.choose_transfer(order_id)
    with bank.uow() as s:
        from sqlalchemy import select

        from boxoffice.payments import service as payments
        from boxoffice.payments.models import Payment

        payment = s.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        payments.confirm_payment(s, payment.id, actor=bank.admin)
        [refund] = refund_order(s, order_id, amount=Decimal("49.00"), actor=bank.admin)
        refund_id = refund.id
        order = s.get(Order, order_id)
        api.tokens["buyer"] = issue_order_token(s, order.id, order.code)
    account = {"data": {"type": "refund-bank-account", "attributes": {"account-holder": "Erika", "iban": "DE00"}}}
    wrong = api.doc(api.call("POST", f"/v1/refunds/{refund_id}/bank-account", "buyer", account), 422)["errors"][0]
    assert wrong["source"] == {"pointer": "/data/attributes/iban"}
    account["data"]["attributes"]["iban"] = "DE89 3704 0044 0532 0130 00"
    done = api.doc(api.call("POST", f"/v1/refunds/{refund_id}/bank-account", "buyer", account), 200)["data"]
    assert done["type"] == "refunds" and done["attributes"]["state"] == "created"
    assert api.doc(api.call("POST", f"/v1/refunds/{refund_id}/bank-account", "stranger", account), 404)


def test_the_openapi_description_documents_the_upload(api) -> None:  # type: ignore[no-untyped-def]
    spec = api.client.get("/openapi.json").json()
    upload = spec["paths"]["/v1/events/{event_id}/bank-imports"]["post"]
    assert "202" in upload["responses"] and MEDIA_TYPE in upload["requestBody"]["content"]
    assert "/v1/events/{event_id}/bank-refunds.xml" in spec["paths"]
