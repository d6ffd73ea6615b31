"""Bank statements in, plain statement lines out: CSV exports and ISO 20022 camt.053 documents.

Nothing here touches the database. A parse either raises :class:`StatementError` (the file as a whole
is unusable: wrong format, broken XML, no recognisable columns) or returns every line it understood
plus every row it did not, with the reason; a row is never dropped silently. How cells are read is
documented in :mod:`.cells` (amounts, dates) and :mod:`.csvimport` (slash dates, headers).

This module is the public face; the readers live in :mod:`.csvimport` and :mod:`.camt`.
"""

from __future__ import annotations

import codecs

from boxoffice.providers.banktransfer.camt import parse_camt053
from boxoffice.providers.banktransfer.cells import parse_amount_text, parse_date_text
from boxoffice.providers.banktransfer.csvimport import ColumnMapping, parse_csv
from boxoffice.providers.banktransfer.lines import (
    MAX_STATEMENT_BYTES,
    ParseResult,
    SkippedRow,
    StatementError,
    StatementLine,
    check_size,
    line_checksum,
)

__all__ = [
    "MAX_STATEMENT_BYTES",
    "ColumnMapping",
    "ParseResult",
    "SkippedRow",
    "StatementError",
    "StatementLine",
    "line_checksum",
    "parse_amount_text",
    "parse_camt053",
    "parse_csv",
    "parse_date_text",
    "parse_statement",
]


def parse_statement(data: bytes, filename: str) -> ParseResult:
    """Read a statement file of any supported kind, chosen by its content (not its name)."""
    check_size(data)
    head = data[:512]
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) :].decode(encoding, "ignore").encode("utf-8")
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<"):
        return parse_camt053(data)
    for magic, kind in ((b"%PDF", "a PDF"), (b"PK\x03\x04", "a ZIP or Excel file"),
                        (b"\xd0\xcf\x11\xe0", "an old Excel file"), (b":20:", "an MT940 statement")):  # fmt: skip
        if head.startswith(magic):
            raise StatementError(f"'{filename}' is {kind}; upload a CSV export or a camt.053 XML file.")
    return parse_csv(data)
