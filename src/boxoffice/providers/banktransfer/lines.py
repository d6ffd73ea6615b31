"""Statement lines: the plain values every statement parser produces, and their checksums."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from boxoffice.errors import InvalidValue

MAX_STATEMENT_BYTES = 50 * 1024 * 1024
# How much of an unreadable row or entry is kept to show the organizer.
RAW_LIMIT = 500


class StatementError(InvalidValue):
    """The statement file as a whole cannot be read; ``detail`` says why and what to do."""

    code = "invalid-statement"
    title = "Unreadable bank statement"


@dataclass(frozen=True)
class StatementLine:
    """One booking on the organizer's account. ``amount`` is signed: negative = money going out."""

    booked_on: date
    amount: Decimal
    currency: str
    payer_name: str
    payer_iban: str
    payer_bic: str
    remittance: str
    bank_transaction_id: str | None
    checksum: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("a statement amount is a Decimal, never a float")


@dataclass(frozen=True)
class SkippedRow:
    """A row or entry that was not turned into a line. ``location`` is e.g. ``line 14``."""

    location: str
    reason: str
    raw: str


@dataclass(frozen=True)
class ParseResult:
    """What a statement file held: its lines, the rows it could not use, its format and encoding."""

    lines: list[StatementLine]
    skipped: list[SkippedRow]
    format: str
    encoding: str | None


class Draft(NamedTuple):
    """A line before its checksum, which depends on the lines before it in the same file."""

    booked_on: date
    amount: Decimal
    currency: str
    payer_name: str
    payer_iban: str
    payer_bic: str
    remittance: str
    bank_transaction_id: str | None


class RowError(Exception):
    """A reason to skip one row or entry; parsers turn it into a :class:`SkippedRow`."""


# ---------------------------------------------------------------------------------------- checksums


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _checksum_key(draft: Draft) -> tuple[str, ...]:
    amount = draft.amount.normalize()
    return (
        draft.booked_on.isoformat(),
        "0" if amount == 0 else format(amount, "f"),
        draft.currency.upper(),
        _squash(draft.payer_name),
        "".join(draft.payer_iban.split()).upper(),
        _squash(draft.remittance),
        (draft.bank_transaction_id or "").strip(),
    )


def line_checksum(key: Sequence[str], occurrence: int) -> str:
    """sha256 over a line's normalized fields and how many identical lines came before it.

    The occurrence index lets two genuinely identical transfers in one file both count, while
    importing the same file (or an overlapping export) again reproduces the same checksums.
    """
    material = "\x1f".join(("v1", *key, str(occurrence)))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def finish(drafts: Iterable[Draft]) -> list[StatementLine]:
    """Lines with checksums, numbering identical lines in file order."""
    seen: dict[tuple[str, ...], int] = {}
    lines = []
    for draft in drafts:
        key = _checksum_key(draft)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        lines.append(StatementLine(*draft, checksum=line_checksum(key, occurrence)))
    return lines


def check_size(data: bytes) -> None:
    """Refuse empty files and files over :data:`MAX_STATEMENT_BYTES` before reading anything."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(
            f"The file has {len(data)} bytes; statements larger than {MAX_STATEMENT_BYTES} bytes are "
            "refused. Export a shorter period."
        )
    if not data.strip():
        raise StatementError("The file is empty.")
