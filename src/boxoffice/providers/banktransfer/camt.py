"""Reading ISO 20022 bank-to-customer statements (camt.053; camt.052 and camt.054 entries alike).

Element names are matched without their namespace, so versions .02 to .08 read the same. One line per
booked entry, or per transaction detail when a batch booking lists each transfer with its amount.
The counterparty is the debtor of a credit and the creditor of a debit. The parser never resolves
entities, never touches the network and refuses DOCTYPEs.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from boxoffice.errors import InvalidValue
from boxoffice.kit.currencies import is_currency_code
from boxoffice.kit.money import normalize
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

# lxml (about 3 MB of memory) is imported when a statement is read, not by every web process.
if TYPE_CHECKING:
    from lxml import etree

_CAMT_MESSAGES = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}


def _local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == name]


def _all(element: etree._Element, *path: str) -> list[etree._Element]:
    level = [element]
    for name in path:
        level = [child for parent in level for child in _children(parent, name)]
    return level


def _text(element: etree._Element, *path: str) -> str:
    for found in _all(element, *path):
        if found.text and found.text.strip():
            return " ".join(found.text.split())
    return ""


def _provided(value: str) -> str | None:
    return value if value and value.upper() != "NOTPROVIDED" else None


def parse_camt053(data: bytes) -> ParseResult:
    """Read an ISO 20022 bank-to-customer statement (camt.053; camt.052/054 have the same entries)."""
    from lxml import etree

    check_size(data)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
        remove_comments=True, remove_pis=True,
    )  # fmt: skip
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise StatementError(
            f"The XML is broken at line {line}, column {column}: {_without_position(exc.msg)}.",
            meta={"line": line, "column": column},
        ) from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise StatementError("The XML has a DOCTYPE; bank statements never need one, so it is refused.")
    message = next((child for child in root if _local(child) in _CAMT_MESSAGES), None)
    if _local(root) != "Document" or message is None:
        raise StatementError(f"This is XML, but not a camt.053 statement (root element '{_local(root)}').")
    format_name, report_name = _CAMT_MESSAGES[_local(message)]
    drafts: list[Draft] = []
    skipped: list[SkippedRow] = []
    for report in _children(message, report_name):
        account_currency = _text(report, "Acct", "Ccy")
        for number, entry in enumerate(_children(report, "Ntry"), start=1):
            try:
                drafts.extend(_entry_drafts(entry, account_currency))
            except RowError as exc:
                raw = etree.tostring(entry, encoding="unicode")[:RAW_LIMIT]
                skipped.append(SkippedRow(f"entry {number} (line {entry.sourceline})", str(exc), raw))
    encoding = _codec_name(root.getroottree().docinfo.encoding)
    return ParseResult(lines=finish(drafts), skipped=skipped, format=format_name, encoding=encoding)


def _codec_name(declared: str | None) -> str | None:
    """Python's name for the declared encoding ("utf-8", "cp1252"), as the CSV reader reports it."""
    if not declared:
        return None
    try:
        return codecs.lookup(declared).name
    except LookupError:  # libxml2 knows encodings Python does not
        return declared.lower()


def _without_position(message: str) -> str:
    # libxml2 repeats the position at the end of its message; we already say where.
    return re.sub(r", line \d+, column \d+$", "", message).rstrip(".")


def _camt_amount(element: etree._Element | None, fallback_currency: str) -> tuple[Decimal, str]:
    if element is None or not (element.text or "").strip():
        raise RowError("the amount is missing")
    text = element.text.strip() if element.text else ""
    currency = (element.get("Ccy") or fallback_currency).upper()
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        raise RowError(f"'{text}' is not an amount")
    if not is_currency_code(currency):
        raise RowError(f"'{currency}' is not a currency code")
    try:
        return normalize(Decimal(text), currency), currency
    except InvalidValue as exc:
        raise RowError(exc.detail) from exc


def _sign(indicator: str) -> int:
    if indicator == "CRDT":
        return 1
    if indicator == "DBIT":
        return -1
    raise RowError(f"credit/debit indicator '{indicator}' is neither CRDT nor DBIT")


def _camt_date(entry: etree._Element) -> date:
    for wrapper in ("BookgDt", "ValDt"):
        text = _text(entry, wrapper, "Dt") or _text(entry, wrapper, "DtTm")[:10]
        if text:
            try:
                return date.fromisoformat(text[:10])
            except ValueError as exc:
                raise RowError(f"'{text}' is not a date") from exc
    raise RowError("the entry has no booking date")


def _tx_amount(details: etree._Element) -> etree._Element | None:
    found = _all(details, "Amt") or _all(details, "AmtDtls", "TxAmt", "Amt")
    return found[0] if found else None


def _entry_drafts(entry: etree._Element, account_currency: str) -> list[Draft]:
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
    if status and status != "BOOK":
        raise RowError(f"the entry has status {status}, not BOOK (booked)")
    amount, currency = _camt_amount(_first(entry, "Amt"), account_currency)
    signed = _sign(_text(entry, "CdtDbtInd")) * amount
    booked_on = _camt_date(entry)
    entry_ref = _provided(_text(entry, "AcctSvcrRef"))
    details = _all(entry, "NtryDtls", "TxDtls")
    if len(details) > 1 and all(_tx_amount(d) is not None for d in details):
        return _split_batch(details, booked_on, signed, currency, entry_ref)
    if len(details) == 1:
        tx_id = _tx_ref(details[0], "AcctSvcrRef") or entry_ref or _tx_ref(details[0], "EndToEndId")
        draft = _detail_draft(details[0], booked_on, signed, currency, tx_id)
        return [draft if draft.remittance else draft._replace(remittance=_text(entry, "AddtlNtryInf"))]
    if not details:
        return [Draft(booked_on, signed, currency, "", "", "", _text(entry, "AddtlNtryInf"), entry_ref)]
    # A batch without per-transfer amounts stays one line; only parties all transfers share are kept.
    merged = [_detail_draft(d, booked_on, signed, currency, entry_ref) for d in details]
    return [
        Draft(
            booked_on, signed, currency,
            _shared(d.payer_name for d in merged), _shared(d.payer_iban for d in merged),
            _shared(d.payer_bic for d in merged),
            " ".join(d.remittance for d in merged if d.remittance), entry_ref,
        )
    ]  # fmt: skip


def _split_batch(
    details: list[etree._Element], booked_on: date, signed: Decimal, currency: str, entry_ref: str | None
) -> list[Draft]:
    """A batch booking that lists each transfer with its amount: one line per transfer."""
    drafts = []
    for detail in details:
        part, part_currency = _camt_amount(_tx_amount(detail), currency)
        indicator = _text(detail, "CdtDbtInd")
        sign = _sign(indicator) if indicator else (1 if signed > 0 else -1)
        tx_id = _tx_ref(detail, "AcctSvcrRef") or _tx_ref(detail, "EndToEndId") or entry_ref
        drafts.append(_detail_draft(detail, booked_on, sign * part, part_currency, tx_id))
    total = sum((d.amount for d in drafts), Decimal(0))
    # Splitting must not create or lose money: the parts have to add up to the booking exactly.
    if any(d.currency != currency for d in drafts) or total != signed:
        raise RowError(f"the {len(drafts)} transaction details add up to {total}, the entry says {signed}")
    return drafts


def _tx_ref(detail: etree._Element, name: str) -> str | None:
    return _provided(_text(detail, "Refs", name))


def _first(element: etree._Element, *path: str) -> etree._Element | None:
    found = _all(element, *path)
    return found[0] if found else None


def _shared(values: Iterable[str]) -> str:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else ""


def _detail_draft(detail: etree._Element, booked_on: date, amount: Decimal, currency: str, tx_id: str | None) -> Draft:
    # The counterparty is whoever sent money in (debtor) or received money going out (creditor).
    party = "Dbtr" if amount >= 0 else "Cdtr"
    name = (
        _text(detail, "RltdPties", party, "Nm")
        or _text(detail, "RltdPties", party, "Pty", "Nm")  # camt.053.001.08 wraps the party
        or _text(detail, "RltdPties", f"Ultmt{party}", "Nm")
        or _text(detail, "RltdPties", f"Ultmt{party}", "Pty", "Nm")
    )
    iban = _text(detail, "RltdPties", f"{party}Acct", "Id", "IBAN")
    agent = ("RltdAgts", f"{party}Agt", "FinInstnId")
    bic = _text(detail, *agent, "BIC") or _text(detail, *agent, "BICFI")
    remittance = " ".join(
        text
        for text in (_joined(detail, "RmtInf", "Ustrd"), _joined(detail, "RmtInf", "Strd", "CdtrRefInf", "Ref"))
        if text
    )
    return Draft(
        booked_on, amount, currency, name, iban.replace(" ", "").upper(), bic.upper(),
        remittance or _text(detail, "AddtlTxInf"), tx_id,
    )  # fmt: skip


def _joined(element: etree._Element, *path: str) -> str:
    return " ".join(" ".join((found.text or "").split()) for found in _all(element, *path) if found.text)
