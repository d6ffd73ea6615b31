"""Pure rules of the books: money owed, when shredding is allowed, the audit entries each state needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.books import rules
from boxoffice.books.rules import MissingEntry, Subject

D = Decimal
NOW = datetime(2030, 6, 1, 12, tzinfo=UTC)
amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
statuses = st.sampled_from(["pending", "paid", "expired", "canceled"])


@pytest.mark.parametrize(
    ("total", "net", "status", "overpaid", "underpaid"),
    [
        ("49.00", "49.00", "paid", "0", "0"),
        ("49.00", "60.00", "paid", "11.00", "0"),
        ("49.00", "40.00", "paid", "0", "9.00"),
        ("49.00", "40.00", "pending", "0", "0"),  # still expected to pay: that is pending_sum, not underpaid
        ("0.00", "49.00", "canceled", "49.00", "0"),  # canceled with the money kept: owed back
        ("5.00", "49.00", "canceled", "44.00", "0"),  # cancellation fee kept
        ("49.00", "20.00", "expired", "0", "0"),
    ],
)
def test_overpaid_and_underpaid_amounts(total: str, net: str, status: str, overpaid: str, underpaid: str) -> None:
    assert rules.overpaid_amount(total=D(total), net_paid=D(net)) == D(overpaid)
    assert rules.underpaid_amount(total=D(total), net_paid=D(net), status=status) == D(underpaid)


@given(total=amounts, net=amounts, status=statuses)
def test_an_order_is_never_both_overpaid_and_underpaid(total: Decimal, net: Decimal, status: str) -> None:
    over = rules.overpaid_amount(total=total, net_paid=net)
    under = rules.underpaid_amount(total=total, net_paid=net, status=status)
    assert over >= 0 and under >= 0 and not (over and under)
    if status == "paid":
        assert total + over - under == net


def test_event_end_is_the_end_else_the_start() -> None:
    start, end = NOW - timedelta(days=2), NOW - timedelta(days=1)
    assert rules.event_end(start, end) == end
    assert rules.event_end(start, None) == start
    assert rules.event_end(None, None) is None


@pytest.mark.parametrize(
    ("date_from", "date_to", "force", "allowed"),
    [
        (NOW - timedelta(days=3), NOW - timedelta(days=1), False, True),
        (NOW - timedelta(days=3), NOW + timedelta(hours=1), False, False),  # started, not ended
        (NOW - timedelta(days=3), NOW + timedelta(hours=1), True, True),
        (NOW - timedelta(days=1), None, False, True),  # no end: over once started
        (NOW + timedelta(days=1), None, False, False),
        (None, None, False, False),  # no dates: cannot be known to be over
        (None, None, True, True),
    ],
)
def test_shredding_waits_for_the_end_of_the_event_unless_forced(
    date_from: datetime | None, date_to: datetime | None, force: bool, allowed: bool
) -> None:
    refusal = rules.shred_refusal(date_from=date_from, date_to=date_to, now=NOW, force=force, open_refunds=0)
    assert (refusal is None) == allowed
    if not allowed:
        assert "force" in (refusal or "")


def test_open_refunds_refuse_shredding_even_when_forced() -> None:
    refusal = rules.shred_refusal(date_from=NOW - timedelta(days=3), date_to=None, now=NOW, force=True, open_refunds=2)
    assert refusal is not None and "2 order(s) have open refunds" in refusal


@pytest.mark.parametrize(
    ("kind", "state", "needed"),
    [
        ("payment", "created", [("payment.created",)]),
        ("payment", "pending", [("payment.created",), ("payment.pending",)]),
        ("payment", "confirmed", [("payment.created",), ("payment.confirmed",)]),
        ("payment", "refunded", [("payment.created",), ("payment.confirmed",), ("payment.refunded",)]),
        ("payment", "failed", [("payment.created",), ("payment.failed",)]),
        ("payment", "canceled", [("payment.created",), ("payment.canceled",)]),
        ("refund", "created", [("refund.created", "refund.external")]),
        ("refund", "external", [("refund.created", "refund.external")]),
        ("refund", "transit", [("refund.created", "refund.external"), ("refund.transit",)]),
        ("refund", "done", [("refund.created", "refund.external"), ("refund.done",)]),
        ("refund", "failed", [("refund.created", "refund.external"), ("refund.failed",)]),
        ("refund", "canceled", [("refund.created", "refund.external"), ("refund.canceled",)]),
        ("order", "pending", [("order.placed",)]),
        ("order", "paid", [("order.placed",), ("order.paid",)]),
        ("order", "expired", [("order.placed",), ("order.expired",)]),
        ("order", "canceled", [("order.placed",), ("order.canceled",)]),
    ],
)
def test_every_state_needs_its_audit_entries(kind: str, state: str, needed: list[tuple[str, ...]]) -> None:
    assert rules.required_entries(Subject(1, kind, "ABCDE", state)) == needed
    assert {a for alternatives in needed for a in alternatives} <= rules.AUDITED_ACTIONS


def test_audit_entries_are_matched_by_the_attempt_they_name() -> None:
    assert rules.audit_key("payment.confirmed", {"payment": "ABCDE-P-2"}, 7, "ABCDE") == (
        7,
        "payment.confirmed",
        "ABCDE-P-2",
    )
    assert rules.audit_key("refund.done", {"refund": "ABCDE-R-1"}, 7, "ABCDE") == (7, "refund.done", "ABCDE-R-1")
    assert rules.audit_key("order.paid", {}, 7, "ABCDE") == (7, "order.paid", "ABCDE")
    assert rules.audit_key("payment.confirmed", {}, 7, "ABCDE") == (7, "payment.confirmed", "")


def test_missing_entries_names_the_subject_and_what_is_missing() -> None:
    payment = Subject(1, "payment", "ABCDE-P-1", "confirmed")
    order = Subject(1, "order", "ABCDE", "paid")
    present = {(1, "payment.created", "ABCDE-P-1"), (1, "order.placed", "ABCDE"), (1, "order.paid", "ABCDE")}
    # An entry naming another attempt, or on another order, does not count.
    present |= {(1, "payment.confirmed", "ABCDE-P-2"), (2, "payment.confirmed", "ABCDE-P-1")}
    missing = rules.missing_entries([payment, order], present)
    assert missing == [MissingEntry(payment, ("payment.confirmed",))]
    assert str(missing[0]) == "payment ABCDE-P-1 is confirmed but has no 'payment.confirmed' entry"
    assert rules.missing_entries([payment], present | {(1, "payment.confirmed", "ABCDE-P-1")}) == []
