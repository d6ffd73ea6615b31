"""Money, currencies and member names are taken only as documented: ASCII digits in the currency's
decimals, currencies in use, text the database can store — anything else is a 4xx with a pointer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from boxoffice.payments.models import Payment


def _payment(amount: str) -> dict[str, Any]:
    return {"data": {"type": "payments", "attributes": {"provider": "manual", "amount": amount, "state": "confirmed"}}}


@pytest.mark.parametrize(
    ("amount", "code"),
    [("\u0661\u0662", "invalid-decimal"), ("\uff11\uff12", "invalid-decimal"), ("-0", "negative-amount"), ("-0.00", "negative-amount"),
     ("12.000", "too-precise"), ("12\n", "invalid-decimal"), ("1000000000000", "amount-too-large")],
)  # fmt: skip
def test_an_amount_in_other_digits_or_signed_or_too_precise_is_422_and_records_nothing(
    api: Any, world: Any, uow: Any, amount: str, code: str
) -> None:
    error = api.post(
        f"/v1/orders/{world.order_a}/payments", 422, doc=_payment(amount), headers=world.headers("staff_x")
    )["errors"][0]
    assert (error["code"], error["source"]) == (code, {"pointer": "/data/attributes/amount"})
    with uow() as s:
        assert s.query(Payment).filter_by(order_id=world.order_a).count() == 0


def test_an_ascii_amount_in_the_currencys_decimals_is_recorded(api: Any, world: Any) -> None:
    doc = api.post(
        f"/v1/orders/{world.order_a}/payments", 201, doc=_payment("12.5"), headers=world.headers("staff_x")
    )
    assert doc["data"]["attributes"]["amount"] == "12.50"


@pytest.mark.parametrize("currency", ["XXX", "XTS", "ABC", "XAU", "DEM", "eur"])
def test_an_event_in_a_currency_not_in_use_is_422_at_the_currency(api: Any, world: Any, currency: str) -> None:
    doc = {
        "data": {
            "type": "events",
            "attributes": {"name": "Summit", "slug": "summit", "currency": currency},
            "relationships": {"organizer": {"data": {"type": "organizers", "id": str(world.organizer_x)}}},
        }
    }
    error = api.post("/v1/events", 422, doc=doc, headers=world.headers("admin_x"))["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/currency"}


def test_the_openapi_lists_the_currencies_and_the_amount_syntax_enforced(api: Any) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    currency = schemas["EventCreateAttributes"]["properties"]["currency"]
    assert "EUR" in currency["enum"] and "XXX" not in currency["enum"] and "ABC" not in currency["enum"]
    amount = schemas["PaymentCreateAttributes"]["properties"]["amount"]["anyOf"][0]
    assert amount["pattern"] == r"^[0-9]{1,12}(\.[0-9]{1,3})?$"


@pytest.mark.parametrize("member", ["settings", "payment-providers"])
def test_a_lone_surrogate_in_a_member_name_is_422_pointing_at_its_object(api: Any, world: Any, member: str) -> None:
    attributes = '{"%s": {"\\ud800x": {"enabled": true}}}'.replace("%s", member)
    body = f'{{"data": {{"type": "events", "id": "{world.shop.event_id}", "attributes": {attributes}}}}}'
    response = api.client.patch(
        f"/v1/events/{world.shop.event_id}",
        content=body.encode(),
        headers={"Content-Type": "application/vnd.api+json", **world.headers("admin_x")},
    )
    error = api.expect(response, 422)["errors"][0]
    assert (error["code"], error["source"]) == ("invalid-character", {"pointer": f"/data/attributes/{member}"})


def test_a_lone_surrogate_in_a_value_is_422_pointing_at_it_and_a_pair_is_fine(api: Any, world: Any) -> None:
    def patch(name: str) -> Any:
        body = json.dumps({"data": {"type": "events", "id": str(world.shop.event_id), "attributes": {"name": "x"}}})
        body = body.replace('"x"', f'"{name}"')
        return api.client.patch(
            f"/v1/events/{world.shop.event_id}",
            content=body.encode(),
            headers={"Content-Type": "application/vnd.api+json", **world.headers("admin_x")},
        )

    error = api.expect(patch("Summit \\udc00"), 422)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/name"}
    assert api.expect(patch("Summit \\ud83c\\udf9f"), 200)["data"]["attributes"]["name"] == "Summit \U0001f39f"


def test_an_answer_quoting_a_lone_surrogate_is_still_written() -> None:
    from boxoffice.kit.responses import dumps

    assert json.loads(dumps({"detail": "'\ud800' is unknown"})) == {"detail": "'\ud800' is unknown"}
