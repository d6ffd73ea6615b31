"""Matching decides what a statement line means for the event's orders, and always says why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.providers.banktransfer.matching import (
    Allocation,
    MatchKind,
    OrderCandidate,
    RefundCandidate,
    match_line,
)
from boxoffice.providers.banktransfer.references import make_reference
from boxoffice.providers.banktransfer.statement import StatementLine

SLUG = "demo-conf"


def line(amount: str, remittance: str, currency: str = "EUR") -> StatementLine:
    return StatementLine(
        booked_on=date(2024, 3, 8),
        amount=Decimal(amount),
        currency=currency,
        payer_name="Erika Mustermann",
        payer_iban="DE89370400440532013000",
        payer_bic="",
        remittance=remittance,
        bank_transaction_id=None,
        checksum="0" * 64,
    )


def order(
    order_id: int,
    code: str,
    pending: str = "49.00",
    refunds: tuple[RefundCandidate, ...] = (),
    status: str = "pending",
    currency: str = "EUR",
) -> OrderCandidate:
    return OrderCandidate(
        order_id=order_id,
        code=code,
        reference=make_reference(SLUG, code),
        currency=currency,
        pending_sum=Decimal(pending),
        open_refunds=refunds,
        status=status,
    )


class Orders:
    """A lookup over fixed orders that counts how often each code is asked for."""

    def __init__(self, *orders: OrderCandidate) -> None:
        self.by_code = {o.code: o for o in orders}
        self.asked: list[str] = []

    def __call__(self, code: str) -> OrderCandidate | None:
        self.asked.append(code)
        return self.by_code.get(code)


K7 = order(1, "K7M2Q")
H8 = order(2, "H8WXE", pending="19.00")
REF_K7, REF_H8 = make_reference(SLUG, "K7M2Q"), make_reference(SLUG, "H8WXE")


# --- payments -------------------------------------------------------------------------------------


def test_exact_payment_by_reference() -> None:
    decision = match_line(line("49.00", f"Ticket {REF_K7} danke"), SLUG, Orders(K7))
    assert decision.kind is MatchKind.PAYMENT
    assert decision.allocations == (Allocation(1, Decimal("49.00")),)
    assert decision.reason == (
        f"The remittance names reference {REF_K7}: order K7M2Q; 49.00 EUR pays its pending sum in full."
    )


def test_smaller_transfer_is_a_partial_payment() -> None:
    decision = match_line(line("20.00", REF_K7), SLUG, Orders(K7))
    assert decision.kind is MatchKind.PAYMENT
    assert decision.allocations == (Allocation(1, Decimal("20.00")),)
    assert "partial payment; 29.00 EUR of 49.00 EUR stay open" in decision.reason


def test_larger_transfer_overpays_the_order() -> None:
    decision = match_line(line("60.00", REF_K7), SLUG, Orders(K7))
    assert decision.allocations == (Allocation(1, Decimal("60.00")),)
    assert "11.00 EUR more than its pending 49.00 EUR (overpaid)" in decision.reason


def test_money_for_a_paid_order_is_still_recorded_on_it() -> None:
    decision = match_line(line("49.00", REF_K7), SLUG, Orders(order(1, "K7M2Q", pending="0", status="paid")))
    assert decision.kind is MatchKind.PAYMENT
    assert "nothing is pending on it" in decision.reason


@pytest.mark.parametrize("status", ["expired", "canceled"])
def test_money_for_an_expired_or_canceled_order_is_recorded_and_flagged(status: str) -> None:
    decision = match_line(line("49.00", REF_K7), SLUG, Orders(order(1, "K7M2Q", status=status)))
    assert decision.kind is MatchKind.PAYMENT
    assert decision.reason.endswith(f"The order is {status}.")


def test_one_transfer_for_two_orders_is_split_when_the_sums_fit() -> None:
    decision = match_line(line("68.00", f"{REF_K7}, {REF_H8}"), SLUG, Orders(K7, H8))
    assert decision.kind is MatchKind.PAYMENT
    assert decision.allocations == (Allocation(1, Decimal("49.00")), Allocation(2, Decimal("19.00")))
    assert "pays their pending sums (49.00 + 19.00) exactly" in decision.reason


def test_one_transfer_for_two_orders_is_not_split_when_the_sums_do_not_fit() -> None:
    decision = match_line(line("50.00", f"{REF_K7} {REF_H8}"), SLUG, Orders(K7, H8))
    assert decision.kind is MatchKind.NO_MATCH
    assert "(49.00 + 19.00 = 68.00 EUR) do not add up to the 50.00 EUR received" in decision.reason


def test_a_paid_order_among_several_prevents_the_split() -> None:
    paid = order(2, "H8WXE", pending="0", status="paid")
    decision = match_line(line("49.00", f"{REF_K7} {REF_H8}"), SLUG, Orders(K7, paid))
    assert decision.kind is MatchKind.NO_MATCH


def test_the_same_order_named_twice_is_paid_once() -> None:
    decision = match_line(line("49.00", f"{REF_K7} {REF_K7.lower().replace('-', ' ')}"), SLUG, Orders(K7))
    assert decision.allocations == (Allocation(1, Decimal("49.00")),)


def test_a_reference_to_an_unknown_order_is_no_match() -> None:
    decision = match_line(line("49.00", f"{REF_K7} {REF_H8}"), SLUG, Orders(K7))
    assert decision.kind is MatchKind.NO_MATCH
    assert f"reference {REF_H8}, which is no order of this event" in decision.reason


# --- evidence weaker than a reference -------------------------------------------------------------


def test_code_with_check_character_but_without_prefix_counts_like_a_reference() -> None:
    decision = match_line(line("20.00", f"Bestellung {REF_K7[-6:]}"), SLUG, Orders(K7))
    assert decision.kind is MatchKind.PAYMENT
    assert "order code K7M2Q (with check character)" in decision.reason


def test_plain_code_is_accepted_when_the_amount_is_the_pending_sum() -> None:
    decision = match_line(line("49.00", "Bestellung K7M2Q"), SLUG, Orders(K7))
    assert decision.kind is MatchKind.PAYMENT
    assert "the word K7M2Q (an order code without check character)" in decision.reason


def test_plain_code_with_another_amount_is_not_enough() -> None:
    decision = match_line(line("40.00", "Bestellung K7M2Q"), SLUG, Orders(K7))
    assert decision.kind is MatchKind.NO_MATCH
    assert "the code alone is not enough" in decision.reason


def test_two_plain_codes_are_ambiguous() -> None:
    decision = match_line(line("68.00", "K7M2Q H8WXE"), SLUG, Orders(K7, H8))
    assert decision.kind is MatchKind.NO_MATCH
    assert "Several words" in decision.reason


def test_words_that_are_no_order_are_ignored() -> None:
    orders = Orders(K7)
    decision = match_line(line("49.00", "DANKE SCHÖN für alles"), SLUG, orders)
    assert decision.kind is MatchKind.NO_MATCH
    assert decision.reason == "The remittance names no reference or order code of this event."


def test_each_code_is_looked_up_once() -> None:
    orders = Orders(K7)
    match_line(line("49.00", f"{REF_K7[-6:]} {REF_K7[-6:]} K7M2Q"), SLUG, orders)
    assert orders.asked == ["K7M2Q"]


# --- money going out ------------------------------------------------------------------------------


def test_outgoing_money_completes_the_open_refund_of_that_amount() -> None:
    refunds = (
        RefundCandidate(7, Decimal("19.00")),
        RefundCandidate(5, Decimal("19.00")),
        RefundCandidate(9, Decimal(30)),
    )
    decision = match_line(line("-19.00", f"Erstattung {REF_K7}"), SLUG, Orders(order(1, "K7M2Q", refunds=refunds)))
    assert decision.kind is MatchKind.REFUND_DONE
    assert decision.refund_id == 5  # the oldest of the two that fit
    assert decision.allocations == (Allocation(1, Decimal("19.00")),)
    assert "the oldest of 2 open refunds of that amount" in decision.reason


def test_outgoing_money_without_a_fitting_refund_is_an_external_refund() -> None:
    refunds = (RefundCandidate(5, Decimal("10.00")),)
    decision = match_line(line("-19.00", REF_K7), SLUG, Orders(order(1, "K7M2Q", refunds=refunds)))
    assert decision.kind is MatchKind.EXTERNAL_REFUND
    assert decision.refund_id is None
    assert decision.allocations == (Allocation(1, Decimal("19.00")),)
    assert "(open refunds: 10.00 EUR)" in decision.reason


def test_outgoing_money_for_several_orders_is_no_match() -> None:
    decision = match_line(line("-68.00", f"{REF_K7} {REF_H8}"), SLUG, Orders(K7, H8))
    assert decision.kind is MatchKind.NO_MATCH


def test_outgoing_money_without_reference_is_no_match() -> None:
    decision = match_line(line("-4.90", "Kontofuehrungsentgelt"), SLUG, Orders(K7))
    assert decision.kind is MatchKind.NO_MATCH


def test_plain_code_on_outgoing_money_needs_a_refund_of_exactly_that_amount() -> None:
    with_refund = Orders(order(1, "K7M2Q", refunds=(RefundCandidate(3, Decimal("19.00")),)))
    assert match_line(line("-19.00", "Erstattung K7M2Q"), SLUG, with_refund).kind is MatchKind.REFUND_DONE
    assert match_line(line("-18.00", "Erstattung K7M2Q"), SLUG, with_refund).kind is MatchKind.NO_MATCH


# --- invalid lines --------------------------------------------------------------------------------


def test_zero_amount_is_invalid() -> None:
    decision = match_line(line("0.00", REF_K7), SLUG, Orders(K7))
    assert decision.kind is MatchKind.INVALID
    assert "amount 0" in decision.reason


def test_wrong_currency_is_invalid() -> None:
    decision = match_line(line("49.00", REF_K7, currency="USD"), SLUG, Orders(K7))
    assert decision.kind is MatchKind.INVALID
    assert decision.reason.startswith("The line is in USD, but order K7M2Q")


# --- invariants -----------------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("-500"), max_value=Decimal("500"), places=2)
pendings = st.decimals(min_value=Decimal("-50"), max_value=Decimal("500"), places=2)


@given(
    amount=amounts,
    pending=st.lists(pendings, min_size=2, max_size=2),
    refund_amounts=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2), max_size=3),
    named=st.sampled_from([[REF_K7], [REF_H8], [REF_K7, REF_H8], ["K7M2Q"], [REF_K7[-6:]], []]),
)
def test_decisions_never_create_or_lose_money_and_always_explain(
    amount: Decimal, pending: list[Decimal], refund_amounts: list[Decimal], named: list[str]
) -> None:
    refunds = tuple(RefundCandidate(i, a) for i, a in enumerate(refund_amounts))
    orders = Orders(order(1, "K7M2Q", str(pending[0]), refunds), order(2, "H8WXE", str(pending[1])))
    decision = match_line(line(str(amount), " ".join(named)), SLUG, orders)
    assert decision.reason
    total = sum((a.amount for a in decision.allocations), Decimal(0))
    if decision.kind is MatchKind.PAYMENT:
        assert amount > 0 and total == amount
        assert all(a.amount > 0 for a in decision.allocations)
    elif decision.kind in (MatchKind.REFUND_DONE, MatchKind.EXTERNAL_REFUND):
        assert amount < 0 and total == -amount and len(decision.allocations) == 1
        assert (decision.refund_id is not None) == (decision.kind is MatchKind.REFUND_DONE)
    else:
        assert decision.allocations == () and decision.refund_id is None
    if decision.kind is MatchKind.REFUND_DONE:
        assert any(r.refund_id == decision.refund_id and r.amount == -amount for r in refunds)
