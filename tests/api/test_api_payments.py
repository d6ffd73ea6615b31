"""Payments and refunds over HTTP: the buyer's attempts and switching providers, the team recording and
confirming money, refunds of every kind, and the decisions on external refunds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from boxoffice.kit import clock
from boxoffice.orders.service import mark_paid
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund

SUCCEEDS, DECLINED, REQUIRES_ACTION = "4242424242424242", "4000000000000002", "4000000000003220"


def _attempt(provider: str, **fields: Any) -> dict[str, Any]:
    return {"data": {"type": "payments", "attributes": {"provider": provider, **fields}}}


def _states(uow: Any, model: type[Payment] | type[Refund], order_id: int) -> list[tuple[str, str]]:
    with uow() as s:
        rows = s.execute(select(model.provider, model.state).where(model.order_id == order_id).order_by(model.id))
        return [(provider, state) for provider, state in rows]


def test_a_buyer_switches_from_a_waiting_card_to_a_manual_payment(api: Any, world: Any, uow: Any) -> None:
    buyer = world.headers("buyer_a")
    response = api.request(
        "POST", f"/v1/orders/{world.order_a}/payments", doc=_attempt("sandbox", sandbox=REQUIRES_ACTION), headers=buyer
    )
    first = api.expect(response, 201)["data"]
    assert response.headers["Location"] == f"/v1/payments/{first['id']}"
    assert first["attributes"]["state"] == "pending"
    assert "/sandbox/confirm/" in first["attributes"]["details"]["redirect-url"]
    second = api.post(f"/v1/orders/{world.order_a}/payments", 201, doc=_attempt("manual"), headers=buyer)["data"]
    assert second["attributes"]["state"] == "pending"
    assert _states(uow, Payment, world.order_a) == [("sandbox", "canceled"), ("manual", "pending")]
    order = api.get(f"/v1/orders/{world.order_a}", headers=buyer)["data"]["attributes"]
    assert order["payment-mode"] == "manual"


def test_a_buyers_attempt_without_a_provider_uses_the_payment_mode(api: Any, world: Any) -> None:
    doc = {"data": {"type": "payments", "attributes": {"sandbox": SUCCEEDS}}}
    payment = api.post(f"/v1/orders/{world.order_a}/payments", 201, doc=doc, headers=world.headers("buyer_a"))
    assert payment["data"]["attributes"]["state"] == "confirmed"
    assert payment["data"]["attributes"]["details"]["card-last4"] == "4242"


def test_a_declined_attempt_is_recorded_and_answered_422(api: Any, world: Any, uow: Any) -> None:
    error = api.post(
        f"/v1/orders/{world.order_a}/payments",
        422,
        doc=_attempt("sandbox", sandbox=DECLINED),
        headers=world.headers("buyer_a"),
    )["errors"][0]
    assert error["detail"] == "Your card was declined."
    assert _states(uow, Payment, world.order_a) == [("sandbox", "failed")]


def test_buyers_neither_set_amounts_nor_states_nor_unknown_provider_fields(api: Any, world: Any, uow: Any) -> None:
    buyer = world.headers("buyer_a")
    url = f"/v1/orders/{world.order_a}/payments"
    error = api.post(url, 403, doc=_attempt("manual", state="confirmed"), headers=buyer)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/state"}
    error = api.post(url, 403, doc=_attempt("manual", amount="1.00"), headers=buyer)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/amount"}
    error = api.post(url, 422, doc=_attempt("manual", sandbox=SUCCEEDS), headers=buyer)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/sandbox"}
    error = api.post(url, 422, doc=_attempt("paypal"), headers=buyer)["errors"][0]
    assert error["code"] == "provider-not-enabled"
    assert _states(uow, Payment, world.order_a) == []


def test_the_team_records_part_of_the_money_and_confirms_the_rest(api: Any, world: Any) -> None:
    team = world.headers("staff_x")
    recorded = _attempt("manual", amount="20.00", state="confirmed")
    first = api.post(f"/v1/orders/{world.order_a}/payments", 201, doc=recorded, headers=team)["data"]
    assert (first["attributes"]["amount"], first["attributes"]["state"]) == ("20.00", "confirmed")
    waiting = api.post(
        f"/v1/orders/{world.order_a}/payments", 201, doc=_attempt("banktransfer", state="pending"), headers=team
    )["data"]
    assert (waiting["attributes"]["amount"], waiting["attributes"]["state"]) == ("29.00", "pending")
    confirmed = api.post(f"/v1/payments/{waiting['id']}/confirm", 200, headers=team)
    assert confirmed["meta"] == {"outcome": "order-paid"}
    order = api.get(f"/v1/orders/{world.order_a}", headers=team)["data"]["attributes"]
    assert (order["status"], order["payment-state"]) == ("paid", "paid")


def test_the_team_naming_only_a_provider_starts_an_attempt_and_records_no_money(api: Any, world: Any, uow: Any) -> None:
    team = world.headers("staff_x")
    started = api.post(f"/v1/orders/{world.order_a}/payments", 201, doc=_attempt("manual"), headers=team)["data"]
    assert (started["attributes"]["amount"], started["attributes"]["state"]) == ("49.00", "pending")
    order = api.get(f"/v1/orders/{world.order_a}", headers=team)["data"]["attributes"]
    assert (order["status"], order["payment-state"], order["pending-sum"]) == ("pending", "unpaid", "49.00")


def test_the_team_records_a_confirmed_payment_only_with_its_amount(api: Any, world: Any, uow: Any) -> None:
    team = world.headers("staff_x")
    error = api.post(
        f"/v1/orders/{world.order_a}/payments", 422, doc=_attempt("manual", state="confirmed"), headers=team
    )["errors"][0]
    assert (error["code"], error["source"]) == ("missing", {"pointer": "/data/attributes/amount"})
    assert _states(uow, Payment, world.order_a) == []


def test_the_team_starts_an_attempt_for_part_of_what_is_left(api: Any, world: Any) -> None:
    team = world.headers("staff_x")
    doc = _attempt("sandbox", sandbox=SUCCEEDS, amount="9.00")
    started = api.post(f"/v1/orders/{world.order_a}/payments", 201, doc=doc, headers=team)["data"]["attributes"]
    assert (started["amount"], started["state"]) == ("9.00", "confirmed")
    order = api.get(f"/v1/orders/{world.order_a}", headers=team)["data"]["attributes"]
    assert (order["payment-state"], order["pending-sum"]) == ("partially-paid", "40.00")


def test_confirming_with_another_amount_follows_the_money(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        payment = payments.start_payment(s, world.order_a, provider="manual", actor="t")
    doc = {"data": {"type": "payment-confirm", "attributes": {"amount": "30.00"}}}
    confirmed = api.post(f"/v1/payments/{payment.id}/confirm", 200, doc=doc, headers=world.headers("staff_x"))
    assert confirmed["data"]["attributes"]["amount"] == "30.00"
    assert confirmed["meta"] == {"outcome": "partial"}


def test_canceling_a_waiting_card_payment_cancels_it_at_the_provider_too(api: Any, world: Any) -> None:
    buyer, team = world.headers("buyer_a"), world.headers("staff_x")
    payment = api.post(
        f"/v1/orders/{world.order_a}/payments", 201, doc=_attempt("sandbox", sandbox=REQUIRES_ACTION), headers=buyer
    )["data"]
    canceled = api.post(f"/v1/payments/{payment['id']}/cancel", 200, headers=team)["data"]
    assert canceled["attributes"]["state"] == "canceled"
    confirmed = api.post(f"/v1/orders/{world.order_a}/charge", 200, doc=world.charge_document(SUCCEEDS), headers=buyer)[
        "data"
    ]
    api.post(f"/v1/payments/{confirmed['id']}/cancel", 409, headers=team)  # the money moved


def test_refunds_go_through_the_provider_or_wait_for_the_organizer(api: Any, world: Any, uow: Any) -> None:
    admin = world.headers("admin_x")
    charge = api.post(
        f"/v1/orders/{world.order_a}/charge",
        200,
        doc=world.charge_document(SUCCEEDS),
        headers=world.headers("buyer_a"),
    )["data"]
    payment_url = f"/v1/payments/{charge['id']}/refund"
    automatic = api.post(
        payment_url, 201, doc={"data": {"type": "refunds", "attributes": {"amount": "10.00"}}}, headers=admin
    )
    assert (automatic["data"]["attributes"]["provider"], automatic["data"]["attributes"]["state"]) == (
        "sandbox",
        "done",
    )
    outside = api.post(
        payment_url,
        201,
        doc={"data": {"type": "refunds", "attributes": {"amount": "5.00", "mark-refunded": True, "comment": "cash"}}},
        headers=admin,
    )["data"]["attributes"]
    assert (outside["provider"], outside["state"], outside["comment"]) == ("manual", "done", "cash")
    rest = api.post(payment_url, 201, headers=admin)["data"]["attributes"]  # all that is left
    assert (rest["amount"], rest["state"]) == ("34.00", "done")
    api.post(payment_url, 409, headers=admin)  # nothing left
    payment = api.get(f"/v1/payments/{charge['id']}", headers=admin)["data"]["attributes"]
    assert payment["state"] == "refunded"


def test_a_refund_above_what_is_left_is_422_and_writes_nothing(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        mark_paid(s, world.order_a, actor="t")
    error = api.post(
        f"/v1/orders/{world.order_a}/refunds",
        422,
        doc={"data": {"type": "refunds", "attributes": {"amount": "49.01"}}},
        headers=world.headers("admin_x"),
    )["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/amount"}
    assert _states(uow, Refund, world.order_a) == []


def test_an_order_refund_is_split_across_payments_and_manual_ones_wait(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        cash = payments.start_payment(s, world.order_a, provider="manual", actor="t", amount=Decimal("20.00"))
        payments.confirm_payment(s, cash.id, actor="t")
    api.post(
        f"/v1/orders/{world.order_a}/charge",
        200,
        doc=world.charge_document(SUCCEEDS),
        headers=world.headers("buyer_a"),
    )
    refunds = api.post(
        f"/v1/orders/{world.order_a}/refunds",
        201,
        doc={"data": {"type": "refunds", "attributes": {"amount": "39.00"}}},
        headers=world.headers("admin_x"),
    )["data"]
    shown = sorted((r["attributes"]["provider"], r["attributes"]["amount"], r["attributes"]["state"]) for r in refunds)
    assert shown == [("manual", "10.00", "created"), ("sandbox", "29.00", "done")]
    manual = next(r for r in refunds if r["attributes"]["provider"] == "manual")
    done = api.post(f"/v1/refunds/{manual['id']}/done", 200, headers=world.headers("admin_x"))["data"]
    assert done["attributes"]["state"] == "done"


def test_an_order_refund_may_name_its_payment(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        mark_paid(s, world.order_a, actor="t")
        payment_id = s.execute(select(Payment.id).where(Payment.order_id == world.order_a)).scalar_one()
    doc = {
        "data": {
            "type": "refunds",
            "attributes": {"amount": "9.00"},
            "relationships": {"payment": {"data": {"type": "payments", "id": str(payment_id)}}},
        }
    }
    refunds = api.post(f"/v1/orders/{world.order_a}/refunds", 201, doc=doc, headers=world.headers("admin_x"))["data"]
    assert [r["relationships"]["payment"]["data"]["id"] for r in refunds] == [str(payment_id)]
    doc["data"]["relationships"]["payment"]["data"]["id"] = "987654"
    error = api.post(f"/v1/orders/{world.order_a}/refunds", 404, doc=doc, headers=world.headers("admin_x"))["errors"][0]
    assert error["source"] == {"pointer": "/data/relationships/payment/data/id"}


def _external_refund(uow: Any, world: Any) -> int:
    with uow() as s:
        mark_paid(s, world.order_a, actor="t")
        payment_id = s.execute(select(Payment.id).where(Payment.order_id == world.order_a)).scalar_one()
        refund = payments.create_external_refund(
            s, world.order_a, amount=Decimal("49.00"), actor="t", provider="manual", payment_id=payment_id
        )
        return refund.id


def test_accepting_an_external_refund_can_send_the_order_back_to_pending(api: Any, world: Any, uow: Any) -> None:
    refund_id = _external_refund(uow, world)
    admin = world.headers("admin_x")
    url = f"/v1/refunds/{refund_id}/process"
    error = api.post(url, 422, headers=admin)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/then"}
    deadline = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    doc = {"data": {"type": "refund-process", "attributes": {"then": "pending", "expires-at": deadline.isoformat()}}}
    refund = api.post(url, 200, doc=doc, headers=admin)["data"]
    assert refund["attributes"]["state"] == "done"
    order = api.get(f"/v1/orders/{world.order_a}", headers=admin)["data"]["attributes"]
    assert (order["status"], order["pending-sum"]) == ("pending", "49.00")
    assert order["expires-at"] == deadline.isoformat().replace("+00:00", "Z")


def test_processing_a_created_refund_retries_its_provider(api: Any, world: Any, uow: Any) -> None:
    admin = world.headers("admin_x")
    charge = api.post(
        f"/v1/orders/{world.order_a}/charge",
        200,
        doc=world.charge_document(SUCCEEDS),
        headers=world.headers("buyer_a"),
    )["data"]
    with uow() as s:
        refund = payments.create_refund(s, int(charge["id"]), amount=Decimal("9.00"), actor="t")
    then = {"data": {"type": "refund-process", "attributes": {"then": "cancel"}}}
    error = api.post(f"/v1/refunds/{refund.id}/process", 422, doc=then, headers=admin)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/then"}
    processed = api.post(f"/v1/refunds/{refund.id}/process", 200, headers=admin)["data"]
    assert processed["attributes"]["state"] == "done"
    api.post(f"/v1/refunds/{refund.id}/process", 409, headers=admin)  # only created refunds


def test_a_manual_refund_can_be_canceled_but_not_processed(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        mark_paid(s, world.order_a, actor="t")
        payment_id = s.execute(select(Payment.id).where(Payment.order_id == world.order_a)).scalar_one()
        refund = payments.create_refund(s, payment_id, amount=Decimal("9.00"), actor="t")
    admin = world.headers("admin_x")
    error = api.post(f"/v1/refunds/{refund.id}/process", 409, headers=admin)["errors"][0]
    assert error["code"] == "refund-manual"
    doc = {"data": {"type": "refund-cancel", "attributes": {"message": "buyer changed their mind"}}}
    canceled = api.post(f"/v1/refunds/{refund.id}/cancel", 200, doc=doc, headers=admin)["data"]
    assert canceled["attributes"]["state"] == "canceled"
    api.post(f"/v1/refunds/{refund.id}/done", 409, headers=admin)
