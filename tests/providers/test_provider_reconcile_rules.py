"""The one table that says what news from a provider does to our payments and refunds: every pair."""

from __future__ import annotations

import itertools

import pytest

from boxoffice.payments.rules import PAYMENT_MOVES, REFUND_MOVES, PaymentState, RefundState
from boxoffice.providers.reconcile_rules import PaymentMove, RefundMove, payment_move, refund_move

P, R = PaymentState, RefundState
REMOTE_PAYMENT = [P.CONFIRMED, P.PENDING, P.FAILED, P.CANCELED, "unknown"]
REMOTE_REFUND = [R.DONE, R.TRANSIT, R.FAILED, R.CANCELED, "unknown"]

PAYMENT_TABLE = {
    # (ours, provider's): move
    (P.CREATED, P.CONFIRMED): PaymentMove.CONFIRM,
    (P.PENDING, P.CONFIRMED): PaymentMove.CONFIRM,
    (P.FAILED, P.CONFIRMED): PaymentMove.CONFIRM,  # money that arrived after all is real money
    (P.CANCELED, P.CONFIRMED): PaymentMove.CONFIRM,
    (P.CREATED, P.PENDING): PaymentMove.PENDING,
    (P.CREATED, P.FAILED): PaymentMove.FAIL,
    (P.PENDING, P.FAILED): PaymentMove.FAIL,
    (P.CREATED, P.CANCELED): PaymentMove.CANCEL,
    (P.PENDING, P.CANCELED): PaymentMove.CANCEL,
}

REFUND_TABLE = {
    (R.CREATED, R.DONE): RefundMove.DONE,
    (R.TRANSIT, R.DONE): RefundMove.DONE,
    (R.FAILED, R.DONE): RefundMove.NOTE,
    (R.CANCELED, R.DONE): RefundMove.NOTE,
    (R.CREATED, R.TRANSIT): RefundMove.TRANSIT,
    (R.CREATED, R.FAILED): RefundMove.FAIL,
    (R.TRANSIT, R.FAILED): RefundMove.FAIL,
    (R.EXTERNAL, R.FAILED): RefundMove.CANCEL,  # the money did not go back after all
    (R.DONE, R.FAILED): RefundMove.NOTE,
    (R.CREATED, R.CANCELED): RefundMove.CANCEL,
    (R.TRANSIT, R.CANCELED): RefundMove.CANCEL,
    (R.EXTERNAL, R.CANCELED): RefundMove.CANCEL,
    (R.DONE, R.CANCELED): RefundMove.NOTE,
}


@pytest.mark.parametrize(("ours", "remote"), list(itertools.product(list(P), REMOTE_PAYMENT)))
def test_every_payment_state_meets_every_provider_answer(ours: str, remote: str) -> None:
    assert payment_move(ours, remote) == PAYMENT_TABLE.get((ours, remote))


@pytest.mark.parametrize(("ours", "remote"), list(itertools.product(list(R), REMOTE_REFUND)))
def test_every_refund_state_meets_every_provider_answer(ours: str, remote: str) -> None:
    assert refund_move(ours, remote) == REFUND_TABLE.get((ours, remote))


_TARGETS = {PaymentMove.CONFIRM: P.CONFIRMED, PaymentMove.PENDING: P.PENDING, PaymentMove.FAIL: P.FAILED,
            PaymentMove.CANCEL: P.CANCELED}  # fmt: skip
_REFUND_TARGETS = {RefundMove.DONE: R.DONE, RefundMove.TRANSIT: R.TRANSIT, RefundMove.FAIL: R.FAILED,
                   RefundMove.CANCEL: R.CANCELED}  # fmt: skip


def test_every_move_is_allowed_by_the_state_machines() -> None:
    for (ours, _remote), move in PAYMENT_TABLE.items():
        assert PAYMENT_MOVES.can(ours, _TARGETS[move])
    for (ours, _remote), move in REFUND_TABLE.items():
        if move != RefundMove.NOTE:
            assert REFUND_MOVES.can(ours, _REFUND_TARGETS[move])


def test_the_same_news_twice_moves_nothing_the_second_time() -> None:
    for (_ours, remote), move in PAYMENT_TABLE.items():
        assert payment_move(_TARGETS[move], remote) is None
    for (_ours, remote), move in REFUND_TABLE.items():
        if move != RefundMove.NOTE:
            assert refund_move(_REFUND_TARGETS[move], remote) is None
