"""Which order does a statement line belong to, and what does it do there? Pure decisions.

The evidence, strongest first:

1. References of this event (``DEMOCO-K7M2QX``, see :mod:`.references`). Every one must name an
   order of the event; one that does not makes the line a ``no_match``, since the buyer clearly meant
   something we cannot see.
2. Only when there is none: order codes with their check character but without prefix (``K7M2QX``).
   A check character makes a stray word unlikely (1 in 32), so such codes count like references;
   words that happen to pass the check but name no order are ignored.
3. Only when there is neither: words shaped like an order code (``K7M2Q``). Nothing proves such a
   word is a code, so it must name exactly one order and the amount must corroborate it: a payment
   equal to the pending sum, or an outgoing amount equal to one of the order's open refunds.

Then: one order and money coming in → a payment of the whole amount (partial and overpayments
included; the order's balance tells the rest). Several orders → split only when their pending sums
add up to the amount exactly. Money going out → ``refund_done`` if an open refund of exactly that
amount exists (the oldest one if several), otherwise ``external_refund``. Every decision carries a
``reason`` an organizer can read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from boxoffice.kit.money import format_amount
from boxoffice.providers.banktransfer.references import (
    find_checked_codes,
    find_plain_codes,
    find_references,
    order_code_of,
)
from boxoffice.providers.banktransfer.statement import StatementLine


class MatchKind(StrEnum):
    """What a statement line is: money for orders, a refund leaving, or something for a human."""

    PAYMENT = "payment"
    REFUND_DONE = "refund_done"
    EXTERNAL_REFUND = "external_refund"
    NO_MATCH = "no_match"
    INVALID = "invalid"


@dataclass(frozen=True)
class RefundCandidate:
    """A refund of the order that is waiting for its money to leave (created or in transit)."""

    refund_id: int
    amount: Decimal


@dataclass(frozen=True)
class OrderCandidate:
    """What matching needs to know about an order; ``pending_sum`` is what the buyer still owes."""

    order_id: int
    code: str
    reference: str
    currency: str
    pending_sum: Decimal
    open_refunds: tuple[RefundCandidate, ...] = ()
    status: str = "pending"


@dataclass(frozen=True)
class Allocation:
    """Money of one line assigned to one order; always positive (the kind says which direction)."""

    order_id: int
    amount: Decimal


@dataclass(frozen=True)
class MatchDecision:
    """The outcome for one line. ``allocations`` for payments and refunds, ``refund_id`` for refund_done."""

    kind: MatchKind
    reason: str
    allocations: tuple[Allocation, ...] = ()
    refund_id: int | None = None


Lookup = Callable[[str], OrderCandidate | None]


def _money(amount: Decimal, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


def match_line(line: StatementLine, event_slug: str, lookup: Lookup) -> MatchDecision:
    """Decide what ``line`` means for the event's orders; ``lookup`` finds an order by its code."""
    if line.amount == 0:
        return MatchDecision(MatchKind.INVALID, "The line moves no money (amount 0).")
    lookup = _remembering(lookup)
    references = find_references(line.remittance, event_slug)
    if references:
        return _decide_strong([(f"reference {r}", order_code_of(r)) for r in references], line, lookup)
    checked = [(f"order code {c} (with check character)", c) for c in find_checked_codes(line.remittance)]
    known = [(label, code) for label, code in checked if lookup(code) is not None]
    if known:
        return _decide_strong(known, line, lookup)
    return _decide_weak(line, lookup)


def _remembering(lookup: Lookup) -> Lookup:
    """``lookup`` asked at most once per code (it may well be a database query)."""
    answers: dict[str, OrderCandidate | None] = {}

    def remembered(code: str) -> OrderCandidate | None:
        if code not in answers:
            answers[code] = lookup(code)
        return answers[code]

    return remembered


def _decide_strong(named: list[tuple[str, str]], line: StatementLine, lookup: Lookup) -> MatchDecision:
    orders: list[OrderCandidate] = []
    labels: list[str] = []
    for label, code in named:
        order = lookup(code)
        if order is None:
            return MatchDecision(
                MatchKind.NO_MATCH,
                f"The remittance names {label}, which is no order of this event; assign the line by hand.",
            )
        if order.order_id not in {o.order_id for o in orders}:
            orders.append(order)
            labels.append(label)
    return _decide(orders, " and ".join(labels), line)


def _decide_weak(line: StatementLine, lookup: Lookup) -> MatchDecision:
    found = [(code, order) for code in find_plain_codes(line.remittance) if (order := lookup(code))]
    if not found:
        return MatchDecision(MatchKind.NO_MATCH, "The remittance names no reference or order code of this event.")
    if len(found) > 1:
        codes = ", ".join(code for code, _ in found)
        return MatchDecision(
            MatchKind.NO_MATCH,
            f"Several words in the remittance are order codes ({codes}) without check character; "
            "assign the line by hand.",
        )
    code, order = found[0]
    label = f"the word {code} (an order code without check character)"
    if order.currency == line.currency:
        corroborated = (line.amount > 0 and line.amount == order.pending_sum) or (
            line.amount < 0 and any(r.amount == -line.amount for r in order.open_refunds)
        )
        if not corroborated:
            return MatchDecision(
                MatchKind.NO_MATCH,
                f"The remittance contains {label}, but {_money(line.amount, line.currency)} does not "
                f"equal its pending sum {_money(order.pending_sum, order.currency)} or an open refund, "
                "so the code alone is not enough; assign the line by hand.",
            )
    return _decide([order], label, line)


def _decide(orders: list[OrderCandidate], label: str, line: StatementLine) -> MatchDecision:
    for order in orders:
        if order.currency != line.currency:
            return MatchDecision(
                MatchKind.INVALID,
                f"The line is in {line.currency}, but order {order.code} ({label}) is in {order.currency}.",
            )
    if line.amount < 0:
        if len(orders) > 1:
            codes = ", ".join(o.code for o in orders)
            return MatchDecision(
                MatchKind.NO_MATCH, f"Outgoing money names several orders ({codes}); assign it by hand."
            )
        return _outgoing(orders[0], label, line)
    if len(orders) == 1:
        return _payment(orders[0], label, line)
    return _split(orders, label, line)


def _payment(order: OrderCandidate, label: str, line: StatementLine) -> MatchDecision:
    amount, currency, pending = line.amount, line.currency, order.pending_sum
    paid = _money(amount, currency)
    if pending <= 0:
        detail = f"nothing is pending on it, so {paid} overpay it"
    elif amount == pending:
        detail = f"{paid} pays its pending sum in full"
    elif amount < pending:
        detail = f"{paid} is a partial payment; {_money(pending - amount, currency)} of {_money(pending, currency)} stay open"
    else:
        detail = f"{paid} is {_money(amount - pending, currency)} more than its pending {_money(pending, currency)} (overpaid)"
    status = "" if order.status in ("pending", "paid") else f" The order is {order.status}."
    return MatchDecision(
        MatchKind.PAYMENT,
        f"The remittance names {label}: order {order.code}; {detail}.{status}",
        allocations=(Allocation(order.order_id, amount),),
    )


def _split(orders: list[OrderCandidate], label: str, line: StatementLine) -> MatchDecision:
    currency = line.currency
    pending = [o.pending_sum for o in orders]
    total = sum(pending, Decimal(0))
    terms = " + ".join(format_amount(p, currency) for p in pending)
    if any(p <= 0 for p in pending) or total != line.amount:
        return MatchDecision(
            MatchKind.NO_MATCH,
            f"The remittance names {label}; their pending sums ({terms} = {_money(total, currency)}) do "
            f"not add up to the {_money(line.amount, currency)} received, so the split is unclear; "
            "assign the line by hand.",
        )
    return MatchDecision(
        MatchKind.PAYMENT,
        f"The remittance names {label}; {_money(line.amount, currency)} pays their pending sums ({terms}) exactly.",
        allocations=tuple(Allocation(o.order_id, o.pending_sum) for o in orders),
    )


def _outgoing(order: OrderCandidate, label: str, line: StatementLine) -> MatchDecision:
    amount = -line.amount
    allocation = (Allocation(order.order_id, amount),)
    matching = sorted((r for r in order.open_refunds if r.amount == amount), key=lambda r: r.refund_id)
    if matching:
        refund = matching[0]
        others = f" (the oldest of {len(matching)} open refunds of that amount)" if len(matching) > 1 else ""
        return MatchDecision(
            MatchKind.REFUND_DONE,
            f"{_money(amount, line.currency)} left for {label}: order {order.code}; this completes its "
            f"open refund #{refund.refund_id}{others}.",
            allocations=allocation,
            refund_id=refund.refund_id,
        )
    open_amounts = ", ".join(_money(r.amount, order.currency) for r in order.open_refunds) or "none"
    return MatchDecision(
        MatchKind.EXTERNAL_REFUND,
        f"{_money(amount, line.currency)} left for {label}: order {order.code}, but no open refund has "
        f"that amount (open refunds: {open_amounts}); it is recorded as a refund made outside boxoffice.",
        allocations=allocation,
    )
