"""SEPA for refunds: IBAN checks, a pain.001.001.03 credit-transfer file, and a plain refunds CSV.

The organizer uploads the pain.001 file to their online banking, which then sends every refund as
its own transfer (``BtchBookg`` false: each one shows up as its own statement line, so matching can
close the refunds one by one). Put the order's transfer reference into each ``remittance`` so the
outgoing line can be matched back to its order.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from boxoffice.errors import InvalidValue
from boxoffice.kit.csvsafe import safe_cell
from boxoffice.kit.money import format_amount, normalize

# lxml (about 3 MB of memory) is imported when a file is written, not by every web process that checks an IBAN.
if TYPE_CHECKING:
    from lxml import etree

PAIN001_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
# Largest amount a SEPA credit transfer may carry (EPC rulebook).
MAX_SEPA_AMOUNT = Decimal("999999999.99")

# IBAN lengths of the SEPA countries; other countries only get the generic 15-34 check.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "VA": 22,
}  # fmt: skip
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
# Bank (4 letters), country (2), location (2: never 0 or 1 first, never O second), branch (3, optional).
_BIC_SHAPE = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9](?:[A-Z0-9]{3})?")
# The EPC's basic Latin character set, the only one every SEPA bank must accept.
_SEPA_CHARS = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                              "ß": "ss", "&": "+"})  # fmt: skip
_NAME_LENGTH = 70
_REMITTANCE_LENGTH = 140
_ID_LENGTH = 35


def validate_iban(iban: str) -> str:
    """The IBAN in electronic form (no spaces, capitals) if its shape and mod-97 check are right."""
    compact = "".join(iban.split()).upper()
    if not _IBAN_SHAPE.fullmatch(compact):
        raise InvalidValue(f"'{iban}' is not an IBAN: two letters, two digits, then 11 to 30 letters or digits.")
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        raise InvalidValue(f"An IBAN from {compact[:2]} has {expected} characters, '{iban}' has {len(compact)}.")
    # ISO 13616: move the first four characters to the end, letters become 10..35, remainder 1.
    digits = "".join(str(int(char, 36)) for char in compact[4:] + compact[:4])
    if int(digits) % 97 != 1:
        raise InvalidValue(f"'{iban}' is not a valid IBAN: its check digits do not match (typo?).")
    return compact


def validate_bic(bic: str) -> str:
    """The BIC in capitals if it has the 8 or 11 character shape of ISO 9362."""
    compact = "".join(bic.split()).upper()
    if not _BIC_SHAPE.fullmatch(compact):
        raise InvalidValue(f"'{bic}' is not a BIC (8 or 11 letters and digits, e.g. DEUTDEFF).")
    return compact


def sepa_text(value: str) -> str:
    """``value`` in the SEPA basic Latin character set: umlauts spelled out, accents dropped."""
    spelled = unicodedata.normalize("NFKD", value.translate(_SPELLED_OUT))
    plain = "".join(char for char in spelled if not unicodedata.combining(char))
    return " ".join(_SEPA_CHARS.sub(" ", plain).split())


@dataclass(frozen=True)
class DebtorAccount:
    """The organizer's account the refunds are paid from."""

    name: str
    iban: str
    bic: str | None = None


@dataclass(frozen=True)
class CreditTransfer:
    """One refund to send. ``end_to_end_id`` comes back on the bank statement; make it unique."""

    end_to_end_id: str
    amount: Decimal
    currency: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    remittance: str


def _identifier(value: str, what: str) -> str:
    if not value or len(value) > _ID_LENGTH or _SEPA_CHARS.search(value):
        raise InvalidValue(f"The {what} '{value}' must be 1 to {_ID_LENGTH} characters of the SEPA character set.")
    if value.startswith("/") or value.endswith("/") or "//" in value:
        raise InvalidValue(f"The {what} '{value}' must not start or end with '/' or contain '//'.")
    return value


def _name(value: str, what: str) -> str:
    # Names longer than the field are cut (banks do the same); an empty one would break the file.
    name = sepa_text(value)[:_NAME_LENGTH].strip()
    if not name:
        raise InvalidValue(f"The {what} '{value}' has no characters a SEPA bank accepts.")
    return name


def _checked_amount(transfer: CreditTransfer) -> Decimal:
    if transfer.currency != "EUR":
        raise InvalidValue(f"SEPA credit transfers are in EUR; '{transfer.end_to_end_id}' is in {transfer.currency}.")
    amount = normalize(transfer.amount, "EUR")  # refuses sub-cent amounts rather than rounding
    if not Decimal("0.01") <= amount <= MAX_SEPA_AMOUNT:
        raise InvalidValue(f"The amount of '{transfer.end_to_end_id}' must be between 0.01 and {MAX_SEPA_AMOUNT}.")
    return amount


def _remittance(transfer: CreditTransfer) -> str:
    text = sepa_text(transfer.remittance)
    if len(text) > _REMITTANCE_LENGTH:
        # Cutting could drop the reference the statement line is matched by: refuse instead.
        raise InvalidValue(f"The remittance of '{transfer.end_to_end_id}' is longer than {_REMITTANCE_LENGTH}.")
    return text


def pain001(
    debtor: DebtorAccount,
    transfers: Sequence[CreditTransfer],
    message_id: str,
    created_at: datetime,
    execution_date: date,
) -> bytes:
    """A pain.001.001.03 document with one payment block holding every transfer (EUR only)."""
    from lxml import etree

    if not transfers:
        raise InvalidValue("A credit transfer file needs at least one transfer.")
    _identifier(message_id, "message id")
    ids = [_identifier(t.end_to_end_id, "end-to-end id") for t in transfers]
    if len(set(ids)) != len(ids):
        raise InvalidValue("Every transfer in a file needs its own end-to-end id.")
    amounts = [_checked_amount(t) for t in transfers]
    count, total = str(len(transfers)), format_amount(sum(amounts, Decimal(0)), "EUR")
    debtor_name = _name(debtor.name, "debtor name")

    # The default namespace has the key None, which lxml-stubs do not allow for.
    default_namespace = {None: PAIN001_NAMESPACE}
    root = etree.Element(f"{{{PAIN001_NAMESPACE}}}Document", nsmap=default_namespace)  # type: ignore[arg-type]
    initiation = _add(root, "CstmrCdtTrfInitn")
    header = _add(initiation, "GrpHdr")
    _add(header, "MsgId", message_id)
    _add(header, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _add(header, "NbOfTxs", count)
    _add(header, "CtrlSum", total)
    _add(_add(header, "InitgPty"), "Nm", debtor_name)

    payment = _add(initiation, "PmtInf")
    _add(payment, "PmtInfId", message_id)
    _add(payment, "PmtMtd", "TRF")
    _add(payment, "BtchBookg", "false")
    _add(payment, "NbOfTxs", count)
    _add(payment, "CtrlSum", total)
    _add(_add(_add(payment, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _add(payment, "ReqdExctnDt", execution_date.isoformat())
    _add(_add(payment, "Dbtr"), "Nm", debtor_name)
    _add(_add(_add(payment, "DbtrAcct"), "Id"), "IBAN", validate_iban(debtor.iban))
    debtor_bank = _add(_add(payment, "DbtrAgt"), "FinInstnId")
    if debtor.bic:
        _add(debtor_bank, "BIC", validate_bic(debtor.bic))
    else:
        # IBAN-only: the EPC's way of saying "no BIC" in this version.
        _add(_add(debtor_bank, "Othr"), "Id", "NOTPROVIDED")
    _add(payment, "ChrgBr", "SLEV")
    for transfer, amount in zip(transfers, amounts, strict=True):
        _add_transfer(payment, transfer, amount)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _add_transfer(payment: etree._Element, transfer: CreditTransfer, amount: Decimal) -> None:
    item = _add(payment, "CdtTrfTxInf")
    _add(_add(item, "PmtId"), "EndToEndId", transfer.end_to_end_id)
    _add(_add(item, "Amt"), "InstdAmt", format_amount(amount, "EUR")).set("Ccy", "EUR")
    if transfer.creditor_bic:
        _add(_add(_add(item, "CdtrAgt"), "FinInstnId"), "BIC", validate_bic(transfer.creditor_bic))
    _add(_add(item, "Cdtr"), "Nm", _name(transfer.creditor_name, "creditor name"))
    _add(_add(_add(item, "CdtrAcct"), "Id"), "IBAN", validate_iban(transfer.creditor_iban))
    remittance = _remittance(transfer)
    if remittance:
        _add(_add(item, "RmtInf"), "Ustrd", remittance)


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    from lxml import etree

    child = etree.SubElement(parent, f"{{{PAIN001_NAMESPACE}}}{name}")
    if text is not None:
        child.text = text
    return child


REFUNDS_CSV_HEADER = (
    "end_to_end_id", "creditor_name", "creditor_iban", "creditor_bic", "amount", "currency", "remittance",
)  # fmt: skip


def refunds_csv(transfers: Sequence[CreditTransfer]) -> bytes:
    """The transfers as UTF-8 CSV with a header row, for banks without pain.001 upload.

    Every text cell goes through :func:`~boxoffice.kit.csvsafe.safe_cell`; amounts are written by us.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REFUNDS_CSV_HEADER)
    for transfer in transfers:
        amount = normalize(transfer.amount, transfer.currency)  # exact, never rounded
        if amount <= 0:
            raise InvalidValue(f"The amount of '{transfer.end_to_end_id}' must be more than zero.")
        writer.writerow(
            [
                safe_cell(transfer.end_to_end_id),
                safe_cell(transfer.creditor_name),
                safe_cell(transfer.creditor_iban),
                safe_cell(transfer.creditor_bic or ""),
                format(amount, "f"),
                safe_cell(transfer.currency),
                safe_cell(transfer.remittance),
            ]
        )
    return out.getvalue().encode("utf-8")
