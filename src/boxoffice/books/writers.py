"""The three export file formats, each turning one stream of rows into a stream of bytes.

A row is a tuple of Python values described by :class:`Column` s. Amounts stay ``Decimal`` until a
writer renders them with the currency's number of decimals; text typed by buyers or organizers goes
through :func:`boxoffice.kit.csvsafe.safe_cell` in CSV, and is written as a string cell (never a
formula) in XLSX. Every writer holds at most one chunk of output in memory.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from boxoffice.kit.csvsafe import safe_cell
from boxoffice.kit.currencies import exponent
from boxoffice.kit.jsonapi import format_datetime
from boxoffice.kit.money import quantum

ColumnType = Literal["text", "amount", "datetime", "int", "bool"]
Row = tuple[Any, ...]
CHUNK_BYTES = 64 * 1024
# XLSX sheets end at 1,048,576 rows; the header takes one.
XLSX_ROWS_PER_SHEET = 1_048_575
# XLSX number cells are IEEE-754 doubles (the file format allows nothing else). An amount below
# 10^12 with at most three decimals has at most 15 significant digits, so the double written for it
# reads back as exactly the same decimal in every spreadsheet; larger ones are written as text.
XLSX_EXACT_LIMIT = Decimal(10) ** 12


@dataclass(frozen=True)
class Column:
    """One exported column: its name (header, JSON key) and how its values are written."""

    name: str
    type: ColumnType = "text"


TextOf = Callable[[Any], str | None]


def text_formats(columns: Sequence[Column], currency: str) -> list[TextOf]:
    """For each column, the function writing its values as text the way CSV and JSON show them
    (None stays None). Built once per export: they run for every cell of a million rows."""
    # format_amount's rounding with the currency's quantum looked up once, not once per cell.
    minor_unit = quantum(currency)

    def amount(value: Any) -> str | None:
        # "+ 0": a negative zero is written "0.00", as format_amount writes it.
        return None if value is None else format(value.quantize(minor_unit, rounding=ROUND_HALF_UP) + 0, "f")

    def moment(value: Any) -> str | None:
        return None if value is None else format_datetime(value)

    def flag(value: Any) -> str | None:
        return None if value is None else "true" if value else "false"

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    by_type: dict[str, TextOf] = {"amount": amount, "datetime": moment, "bool": flag}
    return [by_type.get(c.type, text) for c in columns]


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def write_csv(columns: Sequence[Column], rows: Iterable[Row], currency: str) -> Iterator[bytes]:
    """CSV with a header row, UTF-8 with a byte-order mark (so spreadsheet programs read accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    yield "\ufeff".encode() + _drain(buffer)

    def cell(column: Column, format_: TextOf) -> Callable[[Any], str]:
        if column.type == "text":
            return lambda value: "" if value is None else safe_cell(str(value))
        return lambda value: "" if value is None else format_(value) or ""

    cells = [cell(c, f) for c, f in zip(columns, text_formats(columns, currency), strict=True)]
    for row in rows:
        writer.writerow([write(value) for write, value in zip(cells, row, strict=True)])
        if buffer.tell() >= CHUNK_BYTES:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def write_json(columns: Sequence[Column], rows: Iterable[Row], currency: str) -> Iterator[bytes]:
    """One JSON array of objects keyed by column name; amounts are decimal strings as in the API."""
    names = [c.name for c in columns]
    # Numbers and booleans stay JSON numbers and booleans; everything else is written as text.
    values = [
        (lambda v: v) if c.type in ("int", "bool") else f
        for f, c in zip(text_formats(columns, currency), columns, strict=True)
    ]
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    buffer = io.StringIO()
    buffer.write("[")
    separator = "\n"
    for row in rows:
        buffer.write(separator)
        separator = ",\n"
        buffer.write(encode({n: f(v) for n, f, v in zip(names, values, row, strict=True)}))
        if buffer.tell() >= CHUNK_BYTES:
            yield _drain(buffer)
    buffer.write("\n]\n")
    yield _drain(buffer)


def _xlsx_cell(sheet: Any, row: int, col: int, column: Column, value: Any, formats: dict[str, Any]) -> None:
    if value is None:
        return
    if column.type == "amount":
        if abs(value) < XLSX_EXACT_LIMIT:
            sheet.write_number(row, col, float(value), formats["amount"])
        else:
            sheet.write_string(row, col, format(value, "f"))
    elif column.type == "datetime":
        # Spreadsheets have no time zones: the header says UTC and the value is UTC wall time.
        sheet.write_datetime(row, col, value.astimezone(UTC).replace(tzinfo=None), formats["datetime"])
    elif column.type == "int":
        sheet.write_number(row, col, value)
    elif column.type == "bool":
        sheet.write_boolean(row, col, bool(value))
    else:
        # write_string, never write(): a cell that starts with "=" stays text, not a formula.
        sheet.write_string(row, col, str(value))


def write_xlsx(
    columns: Sequence[Column], rows: Iterable[Row], currency: str, *, title: str = "export"
) -> Iterator[bytes]:
    """An Excel workbook written row by row (``constant_memory``); continues on a new sheet past
    Excel's row limit. The ZIP container is only complete at the end, so it is built in a temporary
    file and then streamed from there."""
    # Imported here: xlsxwriter costs a web process about 10 MB of memory, and few requests export.
    import xlsxwriter

    with tempfile.TemporaryFile() as out:
        workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
        decimals = exponent(currency)
        formats = {
            "amount": workbook.add_format({"num_format": "0." + "0" * decimals if decimals else "0"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
            "header": workbook.add_format({"bold": True}),
        }
        headers = [f"{c.name} (UTC)" if c.type == "datetime" else c.name for c in columns]
        sheet: Any = None
        line = XLSX_ROWS_PER_SHEET
        sheets = 0
        for row in rows:
            if line >= XLSX_ROWS_PER_SHEET:
                sheets += 1
                sheet = workbook.add_worksheet(title[:31] if sheets == 1 else f"{title[:25]} ({sheets})")
                sheet.write_row(0, 0, headers, formats["header"])
                sheet.freeze_panes(1, 0)
                line = 0
            line += 1
            for col, (column, value) in enumerate(zip(columns, row, strict=True)):
                _xlsx_cell(sheet, line, col, column, value, formats)
        if sheet is None:
            workbook.add_worksheet(title[:31]).write_row(0, 0, headers, formats["header"])
        workbook.close()
        out.seek(0)
        while chunk := out.read(CHUNK_BYTES):
            yield chunk


Writer = Callable[[Sequence[Column], Iterable[Row], str], Iterator[bytes]]

FORMATS: dict[str, tuple[str, str]] = {
    # format -> (media type, file extension)
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def writer_for(fmt: str, title: str) -> Writer:
    """The writer of ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "csv":
        return write_csv
    if fmt == "json":
        return write_json

    def xlsx(columns: Sequence[Column], rows: Iterable[Row], currency: str) -> Iterator[bytes]:
        return write_xlsx(columns, rows, currency, title=title)

    return xlsx
