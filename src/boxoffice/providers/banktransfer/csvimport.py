"""Reading a bank's CSV export: encoding, delimiter, header row, columns, then row by row.

Slash dates (``01/02/2024``) are month-first or day-first: ``ColumnMapping.date_format`` decides if
given; otherwise the date column's header if it spells the order (``Date (MM/DD/YYYY)``); otherwise
German column names mean day-first; otherwise the file itself decides when one of its slash dates can
only be read one way (``13/01/2024`` → day-first, ``01/13/2024`` → month-first). Without any of these,
or when the file contradicts itself, rows whose slash date could be read both ways are skipped: a
later import of a file with more dates cannot read the same row differently, only read it where this
one skipped it — so checksums of the same booking never differ between imports.

Cells starting with ``=``, ``+``, ``-``, ``@`` are kept as the text they are. Nothing here evaluates
anything; an exporter escapes such cells with :func:`boxoffice.kit.csvsafe.safe_cell`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from boxoffice.errors import InvalidValue
from boxoffice.kit.currencies import is_currency_code
from boxoffice.providers.banktransfer.cells import SLASH_DATE, TIME_TAIL, parse_amount_text, parse_date_text
from boxoffice.providers.banktransfer.lines import (
    RAW_LIMIT,
    Draft,
    ParseResult,
    RowError,
    SkippedRow,
    StatementError,
    check_size,
    finish,
)

# Banks put account details and period lines above the header; more than this is not a bank export.
_HEADER_SEARCH_ROWS = 50
_DELIMITERS = (";", ",", "\t")


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in data:
        raise StatementError(
            "The file contains NUL bytes: it is UTF-16 without a byte-order mark or not a text file. "
            "Export it again as CSV in UTF-8 or Windows-1252."
        )
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            failure = exc
    raise StatementError(
        f"The file is not valid {' or '.join(candidates)} text "
        f"(byte 0x{data[failure.start]:02x} at offset {failure.start})."
    )


# ---------------------------------------------------------------------------------- CSV: the columns

Column = str | int

MAPPED_FIELDS = ("booked_on", "remittance", "amount", "debit", "credit", "payer_name", "payer_iban",
                  "payer_bic", "currency", "transaction_id", "status")  # fmt: skip


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV columns hold what, by header name or by 0-based index.

    Give ``amount`` or both ``debit`` and ``credit``. ``remittance`` may name several columns; they
    are joined with spaces. ``status`` is a column whose "pending" rows are skipped. ``skip_rows`` is
    the number of rows before the first data row (preamble and header); left ``None`` the header row
    is found by the column names, or is the first row when only indexes are given.
    """

    booked_on: Column
    remittance: Column | tuple[Column, ...]
    amount: Column | None = None
    debit: Column | None = None
    credit: Column | None = None
    payer_name: Column | None = None
    payer_iban: Column | None = None
    payer_bic: Column | None = None
    currency: Column | None = None
    transaction_id: Column | None = None
    status: Column | None = None
    date_format: str | None = None
    decimal_comma: bool | None = None
    skip_rows: int | None = None

    def __post_init__(self) -> None:
        split = self.debit is not None or self.credit is not None
        if (self.amount is None) != split or (split and (self.debit is None or self.credit is None)):
            raise InvalidValue("A column mapping names either 'amount' or both 'debit' and 'credit'.")
        if self.skip_rows is not None and self.skip_rows < 0:
            raise InvalidValue("'skip_rows' cannot be negative.")

    def columns(self) -> dict[str, tuple[Column, ...]]:
        """The mapped fields and their columns, without the reading options."""
        found: dict[str, tuple[Column, ...]] = {}
        for name in MAPPED_FIELDS:
            spec = getattr(self, name)
            if spec is not None:
                found[name] = spec if isinstance(spec, tuple) else (spec,)
        return found


# Header names banks use, in order of preference, as _header_key() writes them (lower-case ASCII,
# umlauts spelled out, brackets dropped, punctuation turned into spaces); a header may end in a
# currency code ("Betrag EUR"). Fields are assigned in this order and each column is used once.
_HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "booked_on": ("buchungstag", "buchungsdatum", "booking date", "posting date", "transaction date",
                  "date posted", "posted date", "completed date", "datum", "date", "valutadatum",
                  "valuta", "wertstellung", "value date"),
    "amount": ("betrag", "betrag in", "umsatz", "amount", "transaction amount"),
    "debit": ("soll", "debit", "debit amount", "paid out", "money out", "withdrawal", "withdrawals",
              "ausgang", "belastung"),
    "credit": ("haben", "credit", "credit amount", "paid in", "money in", "deposit", "deposits",
               "eingang", "gutschrift"),
    "remittance": ("verwendungszweck", "verwendungszweck \\d+", "purpose", "payment reference",
                   "reference", "remittance information", "remittance", "description",
                   "transaction details", "details", "memo", "narrative", "betreff", "buchungstext"),
    "payer_name": ("name zahlungsbeteiligter", "beguenstigter zahlungspflichtiger",
                   "auftraggeber beguenstigter", "auftraggeber empfaenger", "zahlungspflichtige r",
                   "zahlungspflichtiger", "auftraggeber", "payer", "payer name", "counterparty",
                   "counterparty name", "counter party", "partner name", "name"),
    "payer_iban": ("iban zahlungsbeteiligter", "kontonummer iban", "iban kontonummer", "iban",
                   "counterparty iban", "partner iban", "payer iban"),
    "payer_bic": ("bic zahlungsbeteiligter", "bic", "swift", "swift code", "bic swift",
                  "counterparty bic", "partner bic", "payer bic"),
    "currency": ("waehrung", "currency", "ccy", "wkz"),
    "transaction_id": ("transaction id", "transaktions id", "transaktionsid", "bank reference",
                       "buchungsreferenz", "kundenreferenz", "end to end reference", "end to end id"),
    "status": ("status", "buchungsstatus", "state"),
}  # fmt: skip
# A row whose status column says this is not booked yet; its data may still change at the bank.
_PENDING_STATUS = {"vorgemerkt", "pending", "offen", "in bearbeitung", "reserved", "authorised", "authorized"}
_GERMAN_WORDS = re.compile(r"buchung|betrag|verwendungszweck|waehrung|umsatz|wertstellung|datum")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_HEADER_PATTERNS = {
    name: [re.compile(rf"(?:{pattern})(?: [a-z]{{3}})?") for pattern in patterns]
    for name, patterns in _HEADER_NAMES.items()
}


def _header_key(cell: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", cell.casefold().translate(_UMLAUTS))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass(frozen=True)
class _Layout:
    """How one CSV file is laid out: delimiter, header and every field's 0-based column indexes."""

    delimiter: str
    header: list[str]
    first_data_row: int
    indexes: dict[str, tuple[int, ...]]

    def first(self, name: str) -> int | None:
        found = self.indexes.get(name, ())
        return found[0] if found else None

    @property
    def german(self) -> bool:
        return bool(_GERMAN_WORDS.search(" ".join(_header_key(cell) for cell in self.header)))


def _auto_columns(header: list[str]) -> dict[str, tuple[int, ...]]:
    keys = [_header_key(cell) for cell in header]
    taken: set[int] = set()
    found: dict[str, tuple[int, ...]] = {}
    for name, patterns in _HEADER_PATTERNS.items():
        for pattern in patterns:
            hits = tuple(i for i, key in enumerate(keys) if i not in taken and pattern.fullmatch(key))
            if hits:
                # Several "Verwendungszweck N" columns are one remittance; anything else is one column.
                chosen = hits if name == "remittance" else hits[:1]
                found[name] = chosen
                taken.update(chosen)
                break
    return found


def _has_date_and_amount(found: dict[str, tuple[int, ...]]) -> bool:
    return "booked_on" in found and ("amount" in found or ("debit" in found and "credit" in found))


def _mapped_columns(mapping: ColumnMapping, header: list[str]) -> dict[str, tuple[int, ...]] | None:
    """The mapping's columns as indexes into ``header``; None if a named column is not in it."""
    keys = [_header_key(cell) for cell in header]
    result: dict[str, tuple[int, ...]] = {}
    for name, columns in mapping.columns().items():
        indexes = []
        for column in columns:
            if isinstance(column, int):
                indexes.append(column)
            elif _header_key(column) in keys:
                indexes.append(keys.index(_header_key(column)))
            else:
                return None
        result[name] = tuple(indexes)
    return result


def _rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Rows with the line each starts on; a quoted field may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise StatementError(f"The CSV file is broken at line {reader.line_num}: {exc}.") from exc
    return rows


def _delimiter_ranking(sample: str) -> list[str]:
    """Delimiters ordered by how consistently they split the first lines into several fields."""

    def score(delimiter: str) -> tuple[int, int]:
        counts = [len(row) for _, row in _rows(sample, delimiter) if len(row) > 1]
        if not counts:
            return (0, 0)
        mode = max(set(counts), key=counts.count)
        return (counts.count(mode), mode)

    return sorted(_DELIMITERS, key=score, reverse=True)  # stable: ties keep ; , tab


def _locate(text: str, mapping: ColumnMapping | None) -> _Layout:
    """Find the delimiter, the header row and the columns of a CSV export."""
    # The header is near the top: search a sample, not the whole (possibly large) file.
    sample = "\n".join(text.splitlines()[: _HEADER_SEARCH_ROWS + 1])
    ranking = _delimiter_ranking(sample)
    if mapping is not None and (mapping.skip_rows is not None or _only_indexes(mapping)):
        # The caller said where the data starts (or gave indexes only: the first row is the header).
        skip = 1 if mapping.skip_rows is None else mapping.skip_rows
        rows = _rows(sample, ranking[0])
        header = rows[skip - 1][1] if 0 < skip <= len(rows) else []
        indexes = _mapped_columns(mapping, header)
        if indexes is None:
            raise StatementError(
                f"The mapped columns are not all in the header row. {_headers_seen(header)}",
                meta={"headers": header},
            )
        return _Layout(ranking[0], header, skip, indexes)
    for delimiter in ranking:
        for position, (line, row) in enumerate(_rows(sample, delimiter)[:_HEADER_SEARCH_ROWS]):
            if mapping is not None:
                indexes = _mapped_columns(mapping, row)
                if indexes is not None:
                    return _Layout(delimiter, row, position + 1, indexes)
                continue
            found = _auto_columns(row)
            if _has_date_and_amount(found):
                if "remittance" not in found:
                    raise StatementError(
                        f"The header row on line {line} has no remittance column (Verwendungszweck, "
                        f"Purpose, Reference, Description, …). {_headers_seen(row)}",
                        meta={"headers": row},
                    )
                return _Layout(delimiter, row, position + 1, found)
    likely = max((row for _, row in _rows(sample, ranking[0])), key=_filled, default=[])
    wanted = (
        "the mapped columns"
        if mapping is not None
        else ("a booking date, an amount (or debit and credit) and a remittance column")
    )
    raise StatementError(
        f"No header row with {wanted} was found in the first {_HEADER_SEARCH_ROWS} rows. "
        f"{_headers_seen(likely)} Pass a column mapping to say which columns to use.",
        meta={"headers": likely},
    )


def _only_indexes(mapping: ColumnMapping) -> bool:
    return all(isinstance(column, int) for columns in mapping.columns().values() for column in columns)


def _filled(row: list[str]) -> int:
    return sum(1 for cell in row if cell.strip())


def _headers_seen(header: list[str]) -> str:
    cells = [cell.strip() for cell in header if cell.strip()]
    if not cells:
        return "No headers were found."
    return "Headers found: " + ", ".join(f"'{cell}'" for cell in cells) + "."


# ----------------------------------------------------------------------------------- CSV: the rows


def _slash_order(layout: _Layout, rows: Iterable[list[str]]) -> str | None:
    """How this file writes slash dates: 'DMY', 'MDY' or None (unknown); see the module docstring."""
    index = layout.first("booked_on")
    if index is None:
        return None
    header = re.sub(r"\s", "", layout.header[index].upper()) if index < len(layout.header) else ""
    if "MM/DD" in header:
        return "MDY"
    if "DD/MM" in header or "TT.MM" in header or layout.german:
        return "DMY"
    votes = set()
    for row in rows:
        cell = row[index].strip() if index < len(row) else ""
        if m := SLASH_DATE.fullmatch(TIME_TAIL.sub("", cell)):
            first, second = int(m.group(1)), int(m.group(2))
            if first > 12 >= second:
                votes.add("DMY")
            elif second > 12 >= first:
                votes.add("MDY")
    return votes.pop() if len(votes) == 1 else None


def parse_csv(data: bytes, mapping: ColumnMapping | None = None, default_currency: str = "EUR") -> ParseResult:
    """Read a bank's CSV export. See the module docstring for how cells are read."""
    check_size(data)
    text, encoding = _decode(data)
    layout = _locate(text, mapping)
    data_rows = _rows(text, layout.delimiter)[layout.first_data_row :]
    reading = _Reading(
        default_currency=default_currency.upper(),
        slash_order=_slash_order(layout, (row for _, row in data_rows)),
        decimal_comma=mapping.decimal_comma
        if mapping and mapping.decimal_comma is not None
        else (True if layout.german else None),
        date_format=mapping.date_format if mapping is not None else None,
    )
    drafts: list[Draft] = []
    skipped: list[SkippedRow] = []
    for line_number, row in data_rows:
        if not _filled(row):
            continue  # blank lines are layout, not bookings
        try:
            drafts.append(_csv_draft(row, layout, reading))
        except RowError as exc:
            raw = layout.delimiter.join(row)[:RAW_LIMIT]
            skipped.append(SkippedRow(f"line {line_number}", str(exc), raw))
    return ParseResult(lines=finish(drafts), skipped=skipped, format="csv", encoding=encoding)


@dataclass(frozen=True)
class _Reading:
    """The file-wide rules for reading cells, settled once per file."""

    default_currency: str
    slash_order: str | None
    decimal_comma: bool | None
    date_format: str | None


def _csv_draft(row: list[str], layout: _Layout, reading: _Reading) -> Draft:
    needed = max(i for indexes in layout.indexes.values() for i in indexes) + 1
    if len(row) < needed:
        raise RowError(f"the row has {len(row)} fields, the mapped columns need {needed}")

    def cell(name: str) -> str:
        return " ".join(row[i].strip() for i in layout.indexes.get(name, ()) if row[i].strip())

    if cell("status").casefold() in _PENDING_STATUS:
        raise RowError(f"the bank marks the booking as '{cell('status')}', not booked yet")
    currency = (cell("currency") or reading.default_currency).upper()
    if not is_currency_code(currency):
        raise RowError(f"'{currency}' is not a currency code")
    if not cell("booked_on"):
        raise RowError("the booking date is empty")
    try:
        booked_on = parse_date_text(cell("booked_on"), reading.slash_order, reading.date_format)
        amount = _csv_amount(cell, "amount" in layout.indexes, currency, reading.decimal_comma)
    except ValueError as exc:
        raise RowError(str(exc)) from exc
    return Draft(
        booked_on=booked_on,
        amount=amount,
        currency=currency,
        payer_name=cell("payer_name"),
        payer_iban="".join(cell("payer_iban").split()).upper(),
        payer_bic=cell("payer_bic").upper(),
        remittance=" ".join(cell("remittance").split()),
        # Sparkasse-style exports write the SEPA placeholder for "no end-to-end id".
        bank_transaction_id=None if cell("transaction_id").upper() in ("", "NOTPROVIDED") else cell("transaction_id"),
    )


def _csv_amount(cell: Callable[[str], str], single_column: bool, currency: str, decimal_comma: bool | None) -> Decimal:
    if single_column:
        if not cell("amount"):
            raise ValueError("the amount is empty")
        return parse_amount_text(cell("amount"), currency, decimal_comma)
    debit_text, credit_text = cell("debit"), cell("credit")
    if not debit_text and not credit_text:
        raise ValueError("the debit and the credit column are both empty")
    # Banks write money out as "12,50" or as "-12,50" in a debit column; either way it leaves.
    debit = abs(parse_amount_text(debit_text, currency, decimal_comma)) if debit_text else Decimal(0)
    credit = parse_amount_text(credit_text, currency, decimal_comma) if credit_text else Decimal(0)
    if credit < 0:
        raise ValueError(f"the credit column holds a negative amount ({credit_text})")
    if debit and credit:
        raise ValueError("both the debit and the credit column hold an amount")
    return credit - debit
