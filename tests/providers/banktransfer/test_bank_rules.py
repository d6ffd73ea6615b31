"""The pure rules of bank transfers, checked exhaustively: line states, duplicate keys, which attempt a
transfer settles, where a refund goes, and what shredding keeps."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.errors import IllegalTransition
from boxoffice.payments.rules import PaymentState
from boxoffice.providers.banktransfer.matching import MatchKind
from boxoffice.providers.banktransfer.rules import (
    TRANSACTION_MOVES,
    Account,
    Attempt,
    TransactionState,
    account_info,
    attempt_to_settle,
    booking_key,
    booking_keys,
    clip,
    grouped,
    payer_info,
    prefix_of,
    refund_account,
    state_of,
    without_personal_data,
)
from boxoffice.providers.banktransfer.statement import StatementLine

T = TransactionState
LINE = StatementLine(date(2024, 3, 8), Decimal("49.00"), "EUR", "A", "", "", "x", "BANK-1", "c" * 64)

ALLOWED = {
    (T.IMPORTED, T.MATCHED), (T.IMPORTED, T.NO_MATCH), (T.IMPORTED, T.INVALID),
    (T.NO_MATCH, T.MATCHED), (T.NO_MATCH, T.DISCARDED),
    (T.INVALID, T.MATCHED), (T.INVALID, T.DISCARDED),
    (T.ALREADY_IMPORTED, T.MATCHED), (T.ALREADY_IMPORTED, T.DISCARDED),
    (T.DISCARDED, T.MATCHED),
}  # fmt: skip


@pytest.mark.parametrize(("current", "target"), list(itertools.product(T, T)))
def test_every_move_of_a_line_is_in_the_table_or_refused_naming_both_states(current, target) -> None:  # type: ignore[no-untyped-def]
    if (current, target) in ALLOWED:
        TRANSACTION_MOVES.check(current, target)
    else:
        with pytest.raises(IllegalTransition) as caught:
            TRANSACTION_MOVES.check(current, target)
        assert caught.value.meta == {"kind": "bank transaction", "from": current, "to": target}


def test_a_matched_line_never_moves_again() -> None:
    assert not any(TRANSACTION_MOVES.can(T.MATCHED, target) for target in T)


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        (MatchKind.PAYMENT, T.MATCHED),
        (MatchKind.REFUND_DONE, T.MATCHED),
        (MatchKind.EXTERNAL_REFUND, T.MATCHED),
        (MatchKind.NO_MATCH, T.NO_MATCH),
        (MatchKind.INVALID, T.INVALID),
    ],
)
def test_each_matching_decision_puts_the_line_in_one_state(kind, state) -> None:  # type: ignore[no-untyped-def]
    assert state_of(kind) == state


def test_the_booking_key_is_the_id_with_date_amount_and_currency() -> None:
    assert booking_key(LINE) == booking_key(replace(LINE, payer_name="other", remittance="other", checksum="d"))
    assert booking_key(LINE) == booking_key(replace(LINE, amount=Decimal("49.000")))
    for changed in (
        replace(LINE, bank_transaction_id="BANK-2"),
        replace(LINE, booked_on=date(2024, 3, 9)),
        replace(LINE, amount=Decimal("49.01")),
        replace(LINE, currency="CHF"),
    ):
        assert booking_key(changed) != booking_key(LINE)


def test_ids_missing_or_used_twice_in_a_file_identify_nothing() -> None:
    other = replace(LINE, bank_transaction_id="BANK-2")
    no_id = replace(LINE, bank_transaction_id=None)
    keys = booking_keys([LINE, other, no_id, LINE])
    assert keys == [None, booking_key(other), None, None]
    # The same id on another day or amount is another booking, so both keep their key.
    later = replace(LINE, booked_on=date(2024, 3, 9))
    assert booking_keys([LINE, later]) == [booking_key(LINE), booking_key(later)]


STATES = list(PaymentState)


@given(
    st.lists(st.tuples(st.sampled_from(STATES), st.integers(1, 50)), max_size=6, unique_by=lambda a: a[1]),
    st.booleans(),
)
def test_a_transfer_settles_the_oldest_open_attempt_else_late_money_of_a_canceled_order(attempts, canceled) -> None:  # type: ignore[no-untyped-def]
    given_ = [Attempt(payment_id=local * 10, state=state, local_id=local) for state, local in attempts]
    chosen = attempt_to_settle(given_, order_canceled=canceled)
    open_ = [a for a in given_ if a.state in (PaymentState.CREATED, PaymentState.PENDING)]
    ended = [a for a in given_ if a.state in (PaymentState.CANCELED, PaymentState.FAILED)]
    if open_:
        assert chosen == min(open_, key=lambda a: a.local_id).payment_id
    elif canceled and ended:
        assert chosen == max(ended, key=lambda a: a.local_id).payment_id
    else:
        assert chosen is None  # a new payment is recorded (never a confirmed or refunded one again)


def test_a_refund_goes_to_the_account_given_for_it_else_to_where_the_money_came_from() -> None:
    payer = payer_info("Erika", "DE89370400440532013000", "")
    assert payer == {"payer_name": "Erika", "payer_iban": "DE89370400440532013000"}
    given_ = {"account_holder": "Max", "iban": "DE44500105175407324931", "bic": "INGDDEFFXXX"}
    assert refund_account(given_, payer) == Account("Max", "DE44500105175407324931", "INGDDEFFXXX")
    assert refund_account({}, payer) == Account("Erika", "DE89370400440532013000")
    assert refund_account({"iban": "DE44500105175407324931"}, payer) == Account("Erika", "DE89370400440532013000")
    assert refund_account({}, {"payer_name": "Erika"}) is None
    collected = account_info("Max", "DE44500105175407324931", "")
    assert collected == {"account_holder": "Max", "iban": "DE44500105175407324931"}
    assert refund_account(collected, payer) == Account("Max", "DE44500105175407324931")


def test_shredding_keeps_references_and_drops_every_name_iban_and_bic() -> None:
    info = {
        "reference": "DEMOCO-K7M2QL",
        "bank_transaction": 7,
        "export": {"batch": "BO1-x"},
        **payer_info("Erika", "DE89370400440532013000", "COBADEFFXXX"),
        "account_holder": "Max",
        "iban": "DE44500105175407324931",
        "bic": "INGDDEFFXXX",
    }
    assert without_personal_data(info) == {
        "reference": "DEMOCO-K7M2QL",
        "bank_transaction": 7,
        "export": {"batch": "BO1-x"},
        "_shredded": True,
    }


def test_small_text_helpers() -> None:
    assert prefix_of("DEMOCO-K7M2QL") == "DEMOCO" and prefix_of("K7M2QL") == ""
    assert grouped("DE89370400440532013000") == "DE89 3704 0044 0532 0130 00" == grouped("DE89 3704 0044 0532013000")
    assert clip("abc", 3) == "abc" and clip("abcd", 3) == "ab…" and len(clip("x" * 300, 200)) == 200
