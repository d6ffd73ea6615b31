"""``books verify``: honest books pass every check; each invariant broken behind its back is caught."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from boxoffice.books import exports
from boxoffice.books.verify import CHECKS, verify
from boxoffice.catalogue.models import Quota
from boxoffice.cli import app
from boxoffice.orders.changes import OrderChange, change_order
from boxoffice.orders.models import AuditEntry, Order, OrderPosition
from boxoffice.payments.models import Payment, Refund
from conftest import make_shop

runner = CliRunner()


def _order_id(s, code: str) -> int:  # type: ignore[no-untyped-def]
    return s.scalars(select(Order.id).where(Order.code == code)).one()


def _failed(uow) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with uow() as s:
        report = verify(s)
    return {c.name: [str(d) for d in c.drifts] for c in report.checks if not c.ok}


def test_honest_books_pass_every_check(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        report = verify(s)
    assert report.ok, list(report.lines())
    checked = {c.name: c.checked for c in report.checks}
    assert list(checked) == list(CHECKS)
    assert checked == {
        "balances": 4,
        "totals": 4,
        "position-prices": 2,  # paid orders
        "quotas": 1,
        "refund-limits": 2,  # payments with refunds
        "refunded-payments": 4,  # confirmed or refunded payments
        "audit-trail": 10,  # 4 orders, 4 payments, 2 refunds
        "export-totals": 1,  # events
    }


def test_test_mode_orders_left_out_of_exports_are_no_drift(uow, sold, rehearsed: str) -> None:  # type: ignore[no-untyped-def]
    assert _failed(uow) == {}


def test_a_balance_altered_behind_its_back_is_caught(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Order).where(Order.code == sold.overpaid).values(payment_total=Decimal("19.00")))
    failed = _failed(uow)
    assert failed["balances"] == [
        f"order {sold.overpaid} (id {_id(uow, sold.overpaid)}): payment_total is 19.00, expected 24.00"
    ]
    # The export still adds up to the database: it shows what is stored.
    assert "export-totals" not in failed


def _id(uow, code: str) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return _order_id(s, code)


def test_seats_that_do_not_add_up_are_caught(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Quota).values(used=1, size=1))
    failed = _failed(uow)
    assert set(failed) == {"quotas"}
    assert [d.split(": ", 1)[1] for d in failed["quotas"]] == ["used is 1, expected 4"]


def test_a_quota_sized_below_its_seats_is_caught_as_oversold(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Quota).values(size=3))
    assert [d.split(": ", 1)[1] for d in _failed(uow)["quotas"]] == ["oversold is 4, expected <= 3"]


def test_positions_repriced_behind_the_orders_back_are_caught_by_its_total(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        order_id = _order_id(s, sold.paid)
        s.execute(update(OrderPosition).where(OrderPosition.order_id == order_id).values(price=Decimal("1.00")))
    failed = _failed(uow)
    assert failed["totals"] == [
        f"order {sold.paid} (id {order_id}): total is 98.00, expected 2.00 (positions 2.00 + fees 0.00)"
    ]
    assert failed["position-prices"] == [
        f"order {sold.paid} (id {order_id}): position prices is 2 x product {_product(uow, order_id)} for 2.00, "
        f"expected 2 x product {_product(uow, order_id)} for 98.00 (as placed)"
    ]


def test_a_paid_order_repriced_with_a_matching_total_is_caught_by_its_audit_log(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        order_id = _order_id(s, sold.paid)
        s.execute(update(OrderPosition).where(OrderPosition.order_id == order_id).values(price=Decimal("1.00")))
        s.execute(update(Order).where(Order.id == order_id).values(total=Decimal("2.00")))
    failed = _failed(uow)
    assert "totals" not in failed
    assert len(failed["position-prices"]) == 1


def test_a_changed_and_paid_order_is_priced_as_its_last_change_says(uow, sold, trade) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        order_id = _order_id(s, sold.pending)
        position = s.get(Order, order_id).live_positions[0].id
        change_order(s, order_id, OrderChange(set_price=[(position, Decimal("7.00"))]), actor=trade.admin)
        trade.pay(s, order_id)
    assert _failed(uow) == {}
    with uow() as s:
        s.execute(update(OrderPosition).where(OrderPosition.id == position).values(price=Decimal("19.00")))
        s.execute(update(Order).where(Order.id == order_id).values(total=Decimal("19.00")))
    failed = _failed(uow)
    assert failed["position-prices"] == [
        f"order {sold.pending} (id {order_id}): position prices is position {position} "
        f"(product {_product(uow, order_id)}) at 19.00, expected position {position} "
        f"(product {_product(uow, order_id)}) at 7.00"
    ]


def _product(uow, order_id: int) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return s.get(Order, order_id).live_positions[0].product_id


def test_a_refund_larger_than_its_payment_is_caught(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        order_id = _order_id(s, sold.paid)
        s.execute(update(Refund).where(Refund.order_id == order_id).values(amount=Decimal("120.00")))
    payment_id = _payment_id(uow, sold.paid)
    assert _failed(uow)["refund-limits"] == [
        f"payment {sold.paid}-P-1 (id {payment_id}): refunded is 120.00, expected <= 98.00"
    ]


def _payment_id(uow, code: str) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return s.scalars(select(Payment.id).join(Order).where(Order.code == code)).first()


def test_a_refund_drawing_on_another_orders_payment_is_caught(uow, sold) -> None:  # type: ignore[no-untyped-def]
    other_payment = _payment_id(uow, sold.overpaid)
    with uow() as s:
        s.execute(update(Refund).where(Refund.order_id == _order_id(s, sold.paid)).values(payment_id=other_payment))
    failed = _failed(uow)
    assert any(d.startswith(f"refund {sold.paid}-R-1") and "own order's" in d for d in failed["refund-limits"])


@pytest.mark.parametrize(
    ("order", "state", "expected"),
    [("paid", "refunded", "confirmed"), ("canceled", "confirmed", "refunded")],
)
def test_a_payment_state_that_disagrees_with_its_done_refunds_is_caught(  # type: ignore[no-untyped-def]
    uow, sold, order: str, state: str, expected: str
) -> None:
    code = getattr(sold, order)
    with uow() as s:
        s.execute(update(Payment).where(Payment.order_id == _order_id(s, code)).values(state=state))
    failed = _failed(uow)
    [drift] = failed["refunded-payments"]
    assert drift.startswith(f"payment {code}-P-1") and drift.endswith(f"expected {expected}")


@pytest.mark.parametrize(
    ("action", "subject"),
    [
        ("payment.confirmed", "payment {code}-P-1"),
        ("refund.done", "refund {code}-R-1"),
        ("order.paid", "order {code}"),
        ("order.placed", "order {code}"),
    ],
)
def test_a_state_change_without_its_audit_entry_is_caught(uow, sold, action: str, subject: str) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.order_id == _order_id(s, sold.paid), AuditEntry.action == action))
    failed = _failed(uow)
    assert set(failed) == {"audit-trail"}
    assert [d.split(": ")[0] for d in failed["audit-trail"]] == [subject.format(code=sold.paid)]
    assert action in failed["audit-trail"][0]


def test_a_canceled_order_without_its_entry_is_caught(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(
            delete(AuditEntry).where(
                AuditEntry.order_id == _order_id(s, sold.canceled), AuditEntry.action == "order.canceled"
            )
        )
    assert _failed(uow)["audit-trail"] == [
        f"order {sold.canceled}: audit log is no order.canceled entry, expected an entry for state canceled"
    ]


def test_an_export_that_loses_rows_is_caught(uow, sold, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    honest = exports.KINDS["payments"]
    monkeypatch.setitem(
        exports.KINDS,
        "payments",
        replace(
            honest,
            query=lambda event_id, **options: honest.query(event_id, **options).where(Payment.amount > Decimal("5")),
        ),
    )
    failed = _failed(uow)
    assert set(failed) == {"export-totals"}
    assert failed["export-totals"] == [
        "event acme/conf (EUR): exported payments confirmed amount is 117.00, expected 122.00 (database sum)",
        "event acme/conf (EUR): exported payments confirmed rows is 2, expected 3 (database sum)",
    ]


def test_a_report_scoped_to_one_event_ignores_the_others(uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        other = make_shop(s, slug="other", organizer="globex")
        s.execute(update(Quota).where(Quota.id == other.quota_id).values(used=7))
        other_event, other_organizer = other.event_id, other.event.organizer_id
    with uow() as s:
        assert verify(s, event_id=sold.event_id).ok
        assert not verify(s, organizer_id=other_organizer).ok
        scoped = verify(s, event_id=other_event).as_dict()
    assert scoped["ok"] is False
    quotas = next(c for c in scoped["checks"] if c["name"] == "quotas")
    assert quotas["drifts"] == [
        {"subject": f"quota 'Tickets' (id {other.quota_id})", "field": "used", "stored": "7", "expected": "0"}
    ]


def test_verify_command_groups_the_report_by_check_and_exits_1_on_drift(uow, sold) -> None:  # type: ignore[no-untyped-def]
    ok = runner.invoke(app, ["books", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("Books balance: all 8 checks passed.")
    with uow() as s:
        s.execute(update(Order).where(Order.code == sold.pending).values(pending_sum=Decimal("0")))
    bad = runner.invoke(app, ["books", "verify", "--event", "acme/conf"])
    assert bad.exit_code == 1
    lines = bad.output.splitlines()
    assert lines[0] == "Books do NOT balance: 1 difference(s) in 1 of 8 checks."
    assert lines[1].startswith("[DRIFT] balances:")
    assert lines[2] == f"    - order {sold.pending} (id {_id(uow, sold.pending)}): pending_sum is 0.00, expected 19.00"
    assert all(line.startswith("[ok   ]") for line in lines[3:])
