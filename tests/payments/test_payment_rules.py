from decimal import Decimal
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.errors import IllegalTransition
from boxoffice.payments.rules import (
    PAYMENT_MOVES,
    REFUND_MOVES,
    ConfirmOutcome,
    PaymentState,
    RefundablePayment,
    RefundState,
    balance,
    external_refund_settles_overpayment,
    order_after_confirmation,
    propose_refund,
    refundable_amount,
    with_payment,
)

D = Decimal
ALLOWED_PAYMENT = {
    ("created", "pending"),
    ("created", "confirmed"),
    ("created", "failed"),
    ("created", "canceled"),
    ("pending", "confirmed"),
    ("pending", "failed"),
    ("pending", "canceled"),
    ("failed", "confirmed"),
    ("canceled", "confirmed"),
    ("confirmed", "refunded"),
    ("refunded", "confirmed"),
}
ALLOWED_REFUND = {
    ("created", "transit"),
    ("created", "done"),
    ("created", "failed"),
    ("created", "canceled"),
    ("transit", "done"),
    ("transit", "failed"),
    ("transit", "canceled"),
    ("external", "done"),
    ("external", "canceled"),
}


@pytest.mark.parametrize(("current", "target"), list(product([s.value for s in PaymentState], repeat=2)))
def test_payment_transition_table_is_exactly_the_documented_one(current: str, target: str) -> None:
    allowed = (current, target) in ALLOWED_PAYMENT
    assert PAYMENT_MOVES.can(current, target) is allowed
    if not allowed:
        with pytest.raises(IllegalTransition) as err:
            PAYMENT_MOVES.check(current, target)
        assert current in err.value.detail and target in err.value.detail


@pytest.mark.parametrize(("current", "target"), list(product([s.value for s in RefundState], repeat=2)))
def test_refund_transition_table_is_exactly_the_documented_one(current: str, target: str) -> None:
    allowed = (current, target) in ALLOWED_REFUND
    assert REFUND_MOVES.can(current, target) is allowed
    if not allowed:
        with pytest.raises(IllegalTransition, match=f"'{current}' to '{target}'"):
            REFUND_MOVES.check(current, target)


@pytest.mark.parametrize(
    ("total", "status", "payments", "refunds", "state", "pending"),
    [
        ("49.00", "pending", [], [], "unpaid", "49.00"),
        ("49.00", "pending", [("confirmed", "20.00")], [], "partially-paid", "29.00"),
        ("49.00", "pending", [("confirmed", "49.00"), ("pending", "49.00")], [], "pending-fully-paid", "0"),
        ("49.00", "paid", [("confirmed", "49.00")], [], "paid", "0"),
        ("49.00", "paid", [("confirmed", "49.00"), ("confirmed", "10.00")], [], "overpaid", "-10.00"),
        ("49.00", "paid", [("refunded", "49.00")], [("done", "49.00")], "underpaid", "49.00"),
        ("49.00", "paid", [("confirmed", "49.00")], [("external", "49.00")], "paid", "0"),
        ("49.00", "paid", [("confirmed", "49.00")], [("transit", "9.00")], "underpaid", "9.00"),
        ("49.00", "paid", [("confirmed", "49.00")], [("failed", "9.00"), ("canceled", "1")], "paid", "0"),
        ("0", "paid", [("confirmed", "0")], [], "free", "0"),
        ("0", "canceled", [("confirmed", "49.00")], [], "underpaid", "-49.00"),
        ("0", "canceled", [("refunded", "49.00")], [("done", "49.00")], "paid", "0"),
        ("0", "canceled", [], [], "unpaid", "0"),
        ("4.90", "canceled", [("confirmed", "49.00")], [("created", "44.10")], "paid", "0"),
        ("49.00", "expired", [("confirmed", "49.00")], [], "pending-fully-paid", "0"),
        ("49.00", "expired", [("confirmed", "10.00")], [], "underpaid", "39.00"),
        ("49.00", "pending", [("failed", "49.00"), ("canceled", "49.00"), ("created", "49.00")], [], "unpaid", "49.00"),
    ],
)
def test_balance_counts_confirmed_money_minus_committed_refunds(
    total: str, status: str, payments: list[tuple[str, str]], refunds: list[tuple[str, str]], state: str, pending: str
) -> None:
    bal = balance(
        total=D(total),
        order_status=status,
        payments=[(s, D(a)) for s, a in payments],
        refunds=[(s, D(a)) for s, a in refunds],
    )
    assert bal.payment_state == state
    assert bal.pending_sum == D(pending)
    assert bal.has_open_refund == any(s in ("created", "transit", "external") for s, _ in refunds)


amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)


@given(
    total=amounts,
    pays=st.lists(st.tuples(st.sampled_from(list(PaymentState)), amounts), max_size=6),
    refs=st.lists(st.tuples(st.sampled_from(list(RefundState)), amounts), max_size=6),
    status=st.sampled_from(["pending", "paid", "expired", "canceled"]),
)
def test_balance_is_total_minus_net_paid_whatever_the_attempts(total, pays, refs, status) -> None:  # type: ignore[no-untyped-def]
    bal = balance(total=total, order_status=status, payments=pays, refunds=refs)
    paid = sum((a for s, a in pays if s in ("confirmed", "refunded")), D(0))
    back = sum((a for s, a in refs if s in ("done", "transit", "created")), D(0))
    assert bal.pending_sum == total - (paid - back)
    if bal.payment_state == "overpaid":
        assert bal.pending_sum < 0 and status != "canceled"
    if bal.payment_state in ("paid", "pending-fully-paid", "free"):
        assert bal.pending_sum == 0


@given(
    total=amounts,
    pays=st.lists(st.tuples(st.sampled_from(list(PaymentState)), amounts), max_size=6),
    refs=st.lists(st.tuples(st.sampled_from(list(RefundState)), amounts), max_size=6),
    status=st.sampled_from(["pending", "paid", "expired", "canceled"]),
    confirmed=amounts,
)
def test_a_confirmed_payment_added_to_the_stored_balance_equals_summing_every_attempt_again(  # type: ignore[no-untyped-def]
    total, pays, refs, status, confirmed
) -> None:
    before = balance(total=total, order_status=status, payments=pays, refunds=refs)
    after = with_payment(before, confirmed, total=total, order_status=status)
    everything = balance(
        total=total, order_status=status, payments=[*pays, (PaymentState.CONFIRMED, confirmed)], refunds=refs
    )
    assert after == everything


def test_confirmation_marks_the_order_paid_only_when_covered() -> None:
    assert order_after_confirmation(order_status="pending", pending_sum_after=D("0")) == ConfirmOutcome.ORDER_PAID
    assert order_after_confirmation(order_status="pending", pending_sum_after=D("-5")) == ConfirmOutcome.ORDER_PAID
    assert order_after_confirmation(order_status="pending", pending_sum_after=D("1")) == ConfirmOutcome.PARTIAL
    assert order_after_confirmation(order_status="expired", pending_sum_after=D("0")) == ConfirmOutcome.LATE_ACCEPTED
    assert order_after_confirmation(order_status="paid", pending_sum_after=D("-49")) == ConfirmOutcome.OVERPAYMENT
    assert order_after_confirmation(order_status="canceled", pending_sum_after=D("-49")) == ConfirmOutcome.OVERPAYMENT


def test_external_refund_is_settled_only_when_it_gives_back_exactly_the_overpayment() -> None:
    assert external_refund_settles_overpayment(total=D("49"), net_paid=D("59"), amount=D("10"))
    assert not external_refund_settles_overpayment(total=D("49"), net_paid=D("59"), amount=D("9"))
    assert not external_refund_settles_overpayment(total=D("49"), net_paid=D("49"), amount=D("49"))


def test_refundable_amount_counts_committed_refunds_only() -> None:
    assert refundable_amount(D("49"), [("done", D("10")), ("transit", D("5")), ("failed", D("30"))]) == D("34")


def test_refund_proposal_prefers_an_exact_match() -> None:
    payments = [RefundablePayment(1, D("30"), True), RefundablePayment(2, D("19"), True)]
    assert propose_refund(D("19"), payments) == [(2, D("19"))]


def test_refund_proposal_uses_whole_payments_then_partial_capable_ones() -> None:
    payments = [RefundablePayment(1, D("30"), partial_supported=False), RefundablePayment(2, D("19"), True)]
    assert propose_refund(D("40"), payments) == [(1, D("30")), (2, D("10"))]


def test_refund_proposal_never_splits_a_payment_that_cannot_be_partly_refunded() -> None:
    payments = [RefundablePayment(1, D("30"), partial_supported=False)]
    assert propose_refund(D("10"), payments) == []


@given(st.lists(st.tuples(amounts.filter(lambda a: a > 0), st.booleans()), max_size=5), amounts)
def test_refund_proposal_never_exceeds_the_amount_or_a_payment(pays, amount) -> None:  # type: ignore[no-untyped-def]
    payments = [RefundablePayment(i, a, p) for i, (a, p) in enumerate(pays)]
    proposal = propose_refund(amount, payments)
    assert sum((a for _, a in proposal), D(0)) <= amount
    for pid, a in proposal:
        assert 0 < a <= payments[pid].available
        assert payments[pid].partial_supported or a == payments[pid].available
    assert len({pid for pid, _ in proposal}) == len(proposal)
