"""Pure decisions of bank transfers: transaction states, duplicate keys, which attempt a transfer
settles, and whose account a refund goes to. Plain values in and out; no session, no I/O."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from boxoffice.kit.states import StateMachine
from boxoffice.payments.rules import PaymentState
from boxoffice.providers.banktransfer.matching import MatchKind
from boxoffice.providers.banktransfer.statement import StatementLine

IDENTIFIER = "banktransfer"
# Refunds whose money leaves from the organizer's bank account, so a statement line can complete them.
BANK_REFUND_PROVIDERS = frozenset({IDENTIFIER, "manual"})


class TransactionState(StrEnum):
    """Where a statement line stands."""

    IMPORTED = "imported"  # stored, not decided yet (only inside the import's transaction)
    MATCHED = "matched"  # its money is on orders: payments, a completed refund, an external refund
    NO_MATCH = "no-match"  # waiting for the organizer to assign or discard it
    INVALID = "invalid"  # cannot be booked as it is (no money, wrong currency); assign or discard
    ALREADY_IMPORTED = "already-imported"  # the same booking came in with an earlier file
    DISCARDED = "discarded"  # the organizer decided it is nothing for this event


T = TransactionState
TRANSACTION_MOVES = StateMachine(
    "bank transaction",
    {
        T.IMPORTED: frozenset({T.MATCHED, T.NO_MATCH, T.INVALID}),
        # What waits for a human can be assigned to an order or discarded; a discarded line can
        # still be assigned when it turns out to be money for an order after all.
        T.NO_MATCH: frozenset({T.MATCHED, T.DISCARDED}),
        T.INVALID: frozenset({T.MATCHED, T.DISCARDED}),
        T.ALREADY_IMPORTED: frozenset({T.MATCHED, T.DISCARDED}),
        T.DISCARDED: frozenset({T.MATCHED}),
        # Matched money is undone the way all money is: by refunding or canceling its payments.
        T.MATCHED: frozenset(),
    },
)
# States that wait for the organizer.
OPEN_STATES = frozenset({T.NO_MATCH, T.INVALID, T.ALREADY_IMPORTED})
# How an import reports lines it did not store because the same line was stored before.
DUPLICATE_COUNT = "already-imported"


def state_of(kind: MatchKind) -> TransactionState:
    """The state a line takes for a matching decision."""
    if kind in (MatchKind.PAYMENT, MatchKind.REFUND_DONE, MatchKind.EXTERNAL_REFUND):
        return T.MATCHED
    if kind == MatchKind.INVALID:
        return T.INVALID
    return T.NO_MATCH


def booking_key(line: StatementLine) -> str:
    """The identity of a booking by the bank's transaction id, date, amount and currency."""
    amount = line.amount.normalize()
    material = "\x1f".join(
        ("v1", (line.bank_transaction_id or "").strip(), line.booked_on.isoformat(), format(amount, "f"), line.currency)
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def booking_keys(lines: Sequence[StatementLine]) -> list[str | None]:
    """Each line's booking key, or None where the transaction id cannot identify the booking.

    An id only identifies a booking when the file uses it once: batch bookings give every transfer
    the entry's id, and payers choose end-to-end ids freely. Date and amount are part of the key,
    so the same id on another booking (another day, another amount) is not taken for a repeat.
    """
    keys = [booking_key(line) if line.bank_transaction_id else None for line in lines]
    seen = Counter(key for key in keys if key is not None)
    return [key if key is not None and seen[key] == 1 else None for key in keys]


@dataclass(frozen=True)
class Attempt:
    """A bank transfer payment attempt of an order, as far as settling it is concerned."""

    payment_id: int
    state: str
    local_id: int


def attempt_to_settle(attempts: Sequence[Attempt], *, order_canceled: bool) -> int | None:
    """Which existing attempt of an order a transfer confirms; None: record a new payment.

    The oldest open attempt (created or pending) is the one the buyer was asked to pay. A canceled
    order takes no new payments, yet money that arrives for it is real: it then confirms the latest
    canceled or failed attempt (late money may confirm those), and the books show it as owed back.
    """
    open_ = [a for a in attempts if a.state in (PaymentState.CREATED, PaymentState.PENDING)]
    if open_:
        return min(open_, key=lambda a: a.local_id).payment_id
    if order_canceled:
        ended = [a for a in attempts if a.state in (PaymentState.CANCELED, PaymentState.FAILED)]
        if ended:
            return max(ended, key=lambda a: a.local_id).payment_id
    return None


@dataclass(frozen=True)
class Account:
    """A bank account money goes to: the holder's name, IBAN and (optional) BIC."""

    holder: str
    iban: str
    bic: str = ""


# Keys of a payment's ``info`` where a matched transfer's payer is kept, and of a refund's ``info``
# where the account to pay it to is kept. Their words (payer, holder, iban, bic) are what the
# shredder recognizes as payment details.
PAYER_KEYS = ("payer_name", "payer_iban", "payer_bic")
REFUND_ACCOUNT_KEYS = ("account_holder", "iban", "bic")


def payer_info(name: str, iban: str, bic: str) -> dict[str, str]:
    """What a payment keeps about the account a transfer came from (empty values left out)."""
    return {key: value for key, value in zip(PAYER_KEYS, (name, iban, bic), strict=True) if value}


def account_info(holder: str, iban: str, bic: str) -> dict[str, str]:
    """What a refund keeps about the account it is paid to (empty values left out)."""
    return {key: value for key, value in zip(REFUND_ACCOUNT_KEYS, (holder, iban, bic), strict=True) if value}


def refund_account(refund_info: Mapping[str, Any], payment_info: Mapping[str, Any]) -> Account | None:
    """Where a refund is paid to: the account given for the refund, else the account the payment
    came from (as the statement showed it); None when neither has a holder and an IBAN."""
    holder, iban, bic = (str(refund_info.get(key) or "") for key in REFUND_ACCOUNT_KEYS)
    if holder and iban:
        return Account(holder, iban, bic)
    holder, iban, bic = (str(payment_info.get(key) or "") for key in PAYER_KEYS)
    if holder and iban:
        return Account(holder, iban, bic)
    return None


def without_personal_data(info: Mapping[str, Any]) -> dict[str, Any]:
    """A payment's or refund's ``info`` with names, IBANs and BICs removed (references stay)."""
    personal = {*PAYER_KEYS, *REFUND_ACCOUNT_KEYS}
    kept = {key: value for key, value in info.items() if key not in personal}
    return {**kept, "_shredded": True}


def prefix_of(reference: str) -> str:
    """The event prefix of a transfer reference (``DEMOCO`` of ``DEMOCO-K7M2QX``)."""
    return reference.rpartition("-")[0]


def grouped(iban: str) -> str:
    """An IBAN the way people read it: in groups of four (``DE89 3704 0044 …``)."""
    compact = "".join(iban.split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def clip(text: str, length: int) -> str:
    """``text`` cut to a column's length (the full text still went into the line's checksum)."""
    return text if len(text) <= length else text[: length - 1] + "…"
