"""The three export writers: what they write for each column type, and that they are safe to open."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from boxoffice.books import writers
from boxoffice.books.writers import Column, text_formats, write_csv, write_json, write_xlsx, writer_for
from boxoffice.kit.money import format_amount

COLUMNS = (
    Column("name"),
    Column("amount", "amount"),
    Column("at", "datetime"),
    Column("count", "int"),
    Column("open", "bool"),
)
WHEN = datetime(2025, 1, 31, 12, 30, tzinfo=UTC)
ROWS = [
    ('=HYPERLINK("http://evil")', Decimal("49.000"), WHEN, 2, True),
    ("Zoë", Decimal("-12.5"), None, 0, False),
    (None, None, None, None, None),
]
NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def test_csv_has_a_bom_a_header_and_neutralised_formulas() -> None:
    data = b"".join(write_csv(COLUMNS, ROWS, "EUR"))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["name", "amount", "at", "count", "open"],
        ['\'=HYPERLINK("http://evil")', "49.00", "2025-01-31T12:30:00Z", "2", "true"],
        ["Zoë", "-12.50", "", "0", "false"],  # amounts are written by us: a minus sign stays a number
        ["", "", "", "", ""],
    ]


@pytest.mark.parametrize(("currency", "written"), [("EUR", "49.00"), ("JPY", "49"), ("KWD", "49.000")])
def test_amounts_have_the_currencys_decimals(currency: str, written: str) -> None:
    data = b"".join(write_csv((Column("amount", "amount"),), [(Decimal("49"),)], currency))
    assert data.decode("utf-8-sig").splitlines()[1] == written


def test_json_is_one_array_of_objects_with_decimal_strings() -> None:
    data = b"".join(write_json(COLUMNS, ROWS, "EUR"))
    assert json.loads(data) == [
        {
            "name": '=HYPERLINK("http://evil")',
            "amount": "49.00",
            "at": "2025-01-31T12:30:00Z",
            "count": 2,
            "open": True,
        },
        {"name": "Zoë", "amount": "-12.50", "at": None, "count": 0, "open": False},
        {"name": None, "amount": None, "at": None, "count": None, "open": None},
    ]
    assert json.loads(b"".join(write_json(COLUMNS, [], "EUR"))) == []


def test_writers_stream_in_chunks_not_one_blob(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writers, "CHUNK_BYTES", 100)
    rows = [(f"buyer {i}", Decimal(i), WHEN, i, False) for i in range(50)]
    for write in (write_csv, write_json):
        chunks = list(write(COLUMNS, rows, "EUR"))
        assert len(chunks) > 10 and max(len(c) for c in chunks) < 300


def _sheets(data: bytes) -> list[list[list[tuple[str | None, str]]]]:
    """Every sheet as rows of (cell type, text) — enough to see what a spreadsheet would read."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    sheets = []
    for name in names:
        root = etree.fromstring(archive.read(name))
        assert not root.findall(".//x:f", NS), "no cell may be a formula"
        sheets.append(
            [
                [(c.get("t"), "".join(c.itertext())) for c in row.findall("x:c", NS)]
                for row in root.findall(".//x:sheetData/x:row", NS)
            ]
        )
    return sheets


def test_xlsx_writes_text_as_text_and_amounts_as_numbers() -> None:
    data = b"".join(write_xlsx(COLUMNS, ROWS, "EUR", title="orders"))
    [sheet] = _sheets(data)
    assert [text for _, text in sheet[0]] == ["name", "amount", "at (UTC)", "count", "open"]
    assert sheet[1] == [
        ("inlineStr", '=HYPERLINK("http://evil")'),
        (None, "49"),
        (None, "45688.52083333334"),
        (None, "2"),
        ("b", "1"),
    ]
    assert len(sheet) == 3  # a row without values has no cells at all (the next row keeps its number)


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writers, "XLSX_ROWS_PER_SHEET", 2)
    rows = [(f"b{i}", Decimal(i), None, i, False) for i in range(5)]
    sheets = _sheets(b"".join(write_xlsx(COLUMNS, rows, "EUR", title="payments")))
    assert [len(s) for s in sheets] == [3, 3, 2]  # header + rows on each
    assert [s[1][0][1] for s in sheets] == ["b0", "b2", "b4"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(write_xlsx(COLUMNS, rows, "EUR", title="payments"))))
    assert b'name="payments (3)"' in archive.read("xl/workbook.xml")


def test_an_amount_too_long_for_a_double_is_written_as_text() -> None:
    huge = Decimal("123456789012345.678")
    [sheet] = _sheets(b"".join(write_xlsx((Column("amount", "amount"),), [(huge,)], "KWD")))
    assert sheet[1] == [("inlineStr", "123456789012345.678")]


def test_an_empty_export_still_has_its_header() -> None:
    [sheet] = _sheets(b"".join(writer_for("xlsx", "refunds")(COLUMNS, [], "EUR")))
    assert len(sheet) == 1


@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]),
)
def test_amount_cells_are_written_exactly_as_format_amount_writes_them(amount: Decimal, currency: str) -> None:
    [write] = text_formats([Column("amount", "amount")], currency)
    assert write(amount) == format_amount(amount, currency)
