"""CSV exports of German and English banks become statement lines; nothing is dropped silently."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.errors import InvalidValue
from boxoffice.providers.banktransfer.statement import (
    ColumnMapping,
    ParseResult,
    StatementError,
    StatementLine,
    parse_csv,
    parse_statement,
)

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def amounts(result: ParseResult) -> list[Decimal]:
    return [line.amount for line in result.lines]


# --- real-looking exports -------------------------------------------------------------------------


def test_german_savings_bank_export_in_windows_1252() -> None:
    result = parse_csv(sample("de_savings_bank_cp1252.csv"))
    assert (result.format, result.encoding) == ("csv", "cp1252")
    assert amounts(result) == [Decimal(v) for v in ("49.00", "19.00", "1234.56", "-19.00", "-4.90")]
    first = result.lines[0]
    assert first.booked_on == date(2024, 3, 4)
    assert first.payer_name == "Jürgen Müller"
    assert (first.payer_iban, first.payer_bic, first.currency) == ("DE89370400440532013000", "COBADEFFXXX", "EUR")
    assert first.remittance == "DEMOCO-K7M2QL Jürgen Müller Ticket"
    assert first.bank_transaction_id is None  # the export's NOTPROVIDED placeholder
    assert result.lines[1].bank_transaction_id == "RE-2024-0815"
    # The own account ("Auftragskonto") is never taken for the payer's IBAN.
    assert all(line.payer_iban != "DE02120300000000202051" for line in result.lines)
    [skipped] = result.skipped
    assert skipped.location == "line 7"
    assert "31.02.24" in skipped.reason and "kaputtes Datum" in skipped.raw


def test_direct_bank_export_with_preamble_pending_rows_and_twins() -> None:
    result = parse_csv(sample("de_direct_bank_preamble.csv"))
    assert result.encoding == "utf-8-sig"
    assert amounts(result) == [Decimal("49.00"), Decimal("49.00"), Decimal("20.50"), Decimal("-49.00")]
    twin_a, twin_b, multi_line, refund = result.lines
    assert twin_a.payer_iban == "DE29100100100987654321"  # spaces of the export removed
    assert multi_line.remittance == "Ticket DEMOCO-T6UVWD zweite Zeile"
    assert refund.remittance == "Rückerstattung DEMOCO-B2C3DB"
    # Two identical transfers on one day are two bookings: both count, with different checksums.
    assert twin_a.checksum != twin_b.checksum
    reasons = {row.location: row.reason for row in result.skipped}
    assert reasons == {
        "line 10": "the bank marks the booking as 'Vorgemerkt', not booked yet",
        "line 12": "the amount is empty",
    }


def test_english_bank_export_with_paid_out_and_paid_in_columns() -> None:
    result = parse_csv(sample("en_bank_paid_in_out.csv"))
    assert [(line.booked_on, line.amount) for line in result.lines] == [
        (date(2024, 4, 3), Decimal("49.00")),  # 15/04 elsewhere in the file proves day-first
        (date(2024, 4, 15), Decimal("-19.00")),
        (date(2024, 4, 16), Decimal("1234.56")),
        (date(2024, 4, 18), Decimal("-12.50")),
    ]
    assert result.lines[2].remittance == "SMITH & SONS LTD, DEMOCO-P3RTAN"
    assert [row.reason for row in result.skipped] == [
        "both the debit and the credit column hold an amount",
        "the credit column holds a negative amount (-5.00)",
    ]


def test_formula_like_cells_stay_plain_text() -> None:
    result = parse_csv(sample("formula_injection.csv"))
    first, second = result.lines
    assert first.payer_name == '=HYPERLINK("http://evil.example","click")'
    assert first.remittance == "=1+1 DEMOCO-K7M2QL"
    assert (second.payer_name, second.remittance, second.amount) == ("@SUM(A1:A9)", "-DEMOCO-H8WXEL", Decimal(19))
    [skipped] = result.skipped
    assert skipped.reason == "'=2+3' is not an amount"  # a formula is not a number, and is not run


# --- checksums ------------------------------------------------------------------------------------


def test_importing_the_same_file_again_gives_the_same_checksums() -> None:
    data = sample("de_direct_bank_preamble.csv")
    assert [line.checksum for line in parse_csv(data).lines] == [line.checksum for line in parse_csv(data).lines]


def test_an_overlapping_export_gives_the_shared_lines_the_same_checksums() -> None:
    whole = parse_csv(sample("de_savings_bank_cp1252.csv"))
    text = sample("de_savings_bank_cp1252.csv").decode("cp1252").splitlines(keepends=True)
    later_part = parse_csv("".join([text[0], *text[3:]]).encode("cp1252"))  # first two bookings missing
    assert {line.checksum for line in later_part.lines} <= {line.checksum for line in whole.lines}
    assert len(later_part.lines) == len(whole.lines) - 2


def test_checksum_ignores_layout_but_not_money() -> None:
    header = "Buchungstag;Betrag;Verwendungszweck;Name\n"
    a = parse_csv((header + "01.03.2024;49,00;DEMOCO  K7M2QL;Jürgen  Müller\n").encode()).lines[0]
    b = parse_csv((header + "2024-03-01;49;democo k7m2ql;JÜRGEN MÜLLER\n").encode()).lines[0]
    c = parse_csv((header + "2024-03-01;49,01;democo k7m2ql;JÜRGEN MÜLLER\n").encode()).lines[0]
    assert a.checksum == b.checksum
    assert a.checksum != c.checksum


def test_statement_lines_refuse_float_amounts() -> None:
    with pytest.raises(TypeError):
        StatementLine(date(2024, 1, 1), 1.5, "EUR", "", "", "", "", None, "x")  # type: ignore[arg-type]


# --- files that cannot be read --------------------------------------------------------------------


def test_unknown_columns_are_refused_with_the_headers_found() -> None:
    with pytest.raises(StatementError) as caught:
        parse_csv(sample("bad_unknown_columns.csv"))
    assert "'Foo', 'Bar', 'Baz', 'Qux'" in caught.value.detail
    assert caught.value.meta["headers"] == ["Foo", "Bar", "Baz", "Qux"]
    assert isinstance(caught.value, InvalidValue)


def test_a_missing_remittance_column_is_named() -> None:
    with pytest.raises(StatementError, match=r"no remittance column.*'Datum', 'Betrag', 'Saldo'"):
        parse_csv(b"Datum;Betrag;Saldo\n01.03.2024;49,00;100,00\n")


def test_utf16_without_byte_order_mark_is_refused() -> None:
    with pytest.raises(StatementError, match="NUL bytes"):
        parse_csv(sample("bad_utf16_no_bom.csv"))


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_refused() -> None:
    with pytest.raises(StatementError, match="byte 0x81 at offset 55"):
        parse_csv(sample("bad_wrong_encoding.csv"))


def test_utf16_with_byte_order_mark_is_read() -> None:
    data = "Buchungstag;Betrag;Verwendungszweck\n04.03.2024;49,00;Grüße DEMOCO-K7M2QL\n".encode("utf-16")
    result = parse_statement(data, "export.csv")
    assert result.encoding == "utf-16"
    assert result.lines[0].remittance == "Grüße DEMOCO-K7M2QL"


def test_empty_and_oversized_files_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StatementError, match="empty"):
        parse_csv(b"  \n")
    monkeypatch.setattr("boxoffice.providers.banktransfer.lines.MAX_STATEMENT_BYTES", 100)
    with pytest.raises(StatementError, match="larger than 100 bytes"):
        parse_csv(sample("de_savings_bank_cp1252.csv"))


def test_rows_with_too_few_fields_are_skipped_with_the_reason() -> None:
    result = parse_csv(b"Date,Amount,Reference\n2024-03-01,49.00,DEMOCO-K7M2QL\n2024-03-02,19.00\n")
    assert len(result.lines) == 1
    assert result.skipped[0].reason == "the row has 2 fields, the mapped columns need 3"


# --- delimiters, dates, currencies ----------------------------------------------------------------


def test_tab_separated_export() -> None:
    result = parse_csv(b"Booking date\tAmount\tPurpose\n2024-03-01\t1,049.00\tDEMOCO-K7M2QL\n")
    assert amounts(result) == [Decimal("1049.00")]


def test_comma_separated_export_with_quoted_grouped_amounts() -> None:
    result = parse_csv(b'Date,Description,Amount\n2024-03-01,"Smith, John DEMOCO-K7M2QL","1,049.00"\n')
    assert amounts(result) == [Decimal("1049.00")]
    assert result.lines[0].remittance == "Smith, John DEMOCO-K7M2QL"


def test_month_first_slash_dates_when_the_header_says_so() -> None:
    result = parse_csv(b"Date (MM/DD/YYYY),Amount,Description\n03/04/2024,49.00,x\n")
    assert result.lines[0].booked_on == date(2024, 3, 4)


def test_month_first_slash_dates_when_the_file_proves_it() -> None:
    result = parse_csv(b"Posting Date,Amount,Description\n03/04/2024,49.00,x\n03/15/2024,19.00,y\n")
    assert [line.booked_on for line in result.lines] == [date(2024, 3, 4), date(2024, 3, 15)]


def test_slash_dates_that_could_be_read_both_ways_are_skipped_not_guessed() -> None:
    result = parse_csv(b"Date,Amount,Description\n03/04/2024,49.00,x\n05/05/2024,19.00,y\n")
    assert [line.booked_on for line in result.lines] == [date(2024, 5, 5)]
    assert "day/month or month/day" in result.skipped[0].reason


def test_slash_dates_of_a_self_contradicting_file_are_skipped() -> None:
    data = b"Date,Amount,Description\n13/04/2024,1.00,x\n04/13/2024,2.00,y\n03/04/2024,3.00,z\n"
    result = parse_csv(data)
    assert result.lines == []
    assert len(result.skipped) == 3


def test_german_headers_mean_day_first_slash_dates() -> None:
    result = parse_csv(b"Buchungstag;Betrag;Verwendungszweck\n03/04/2024;49,00;x\n")
    assert result.lines[0].booked_on == date(2024, 4, 3)


def test_currency_column_default_currency_and_bad_currency() -> None:
    data = b"Date;Amount;Currency;Purpose\n2024-03-01;1.500;JPY;a\n2024-03-01;12,50;;b\n2024-03-01;1;EURO;c\n"
    result = parse_csv(data, default_currency="CHF")
    assert [(line.amount, line.currency) for line in result.lines] == [
        (Decimal(1500), "JPY"),
        (Decimal("12.50"), "CHF"),
    ]
    assert result.skipped[0].reason == "'EURO' is not a currency code"


def test_several_verwendungszweck_columns_are_joined() -> None:
    data = "Buchungstag;Betrag;Verwendungszweck 1;Verwendungszweck 2\n01.03.2024;49,00;DEMOCO-;K7M2QL\n"
    assert parse_csv(data.encode()).lines[0].remittance == "DEMOCO- K7M2QL"


# --- explicit column mappings ---------------------------------------------------------------------


def test_mapping_by_header_names() -> None:
    data = b"Valuta;Wert;Text;Wer\n01.03.2024;49,00;DEMOCO-K7M2QL;Erika\n"
    mapping = ColumnMapping(booked_on="Valuta", amount="Wert", remittance="Text", payer_name="Wer")
    line = parse_csv(data, mapping).lines[0]
    assert (line.amount, line.payer_name, line.remittance) == (Decimal("49.00"), "Erika", "DEMOCO-K7M2QL")


def test_mapping_by_indexes_with_preamble_rows_and_debit_credit() -> None:
    data = b"Konto 123\nvon;bis\nA;B;C;D\n2024-03-01;;12,50;Erstattung\n2024-03-02;49,00;;Ticket\n"
    mapping = ColumnMapping(booked_on=0, credit=1, debit=2, remittance=3, skip_rows=3, decimal_comma=True)
    assert amounts(parse_csv(data, mapping)) == [Decimal("-12.50"), Decimal("49.00")]


def test_mapping_with_a_date_format() -> None:
    data = b"When,How much,What\nMar 01 2024,49.00,Ticket\n"
    mapping = ColumnMapping(booked_on="When", amount="How much", remittance="What", date_format="%b %d %Y")
    assert parse_csv(data, mapping).lines[0].booked_on == date(2024, 3, 1)


def test_mapping_whose_columns_are_not_in_the_file_is_refused() -> None:
    mapping = ColumnMapping(booked_on="Valuta", amount="Wert", remittance="Text")
    with pytest.raises(StatementError, match="mapped columns"):
        parse_csv(b"Datum;Betrag;Zweck\n01.03.2024;1,00;x\n", mapping)


@pytest.mark.parametrize(
    "fields",
    [{}, {"amount": 1, "debit": 2, "credit": 3}, {"debit": 2}, {"credit": 3}, {"amount": 1, "skip_rows": -1}],
)
def test_mapping_needs_amount_or_both_debit_and_credit(fields: dict[str, int]) -> None:
    with pytest.raises(InvalidValue):
        ColumnMapping(booked_on=0, remittance=4, **fields)  # type: ignore[arg-type]


# --- round trip -----------------------------------------------------------------------------------

cell_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")) | st.sampled_from("\n;,\"'=+-@"),
    max_size=30,
)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
            st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2),
            cell_text,
            cell_text,
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([";", ",", "\t"]),
)
def test_any_export_written_by_a_csv_writer_reads_back_exactly(
    bookings: list[tuple[date, Decimal, str, str]], delimiter: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["Booking date", "Amount", "Payer", "Purpose"])
    for booked_on, amount, payer, purpose in bookings:
        writer.writerow([booked_on.isoformat(), f"{amount:,.2f}", payer, purpose])
    result = parse_csv(out.getvalue().encode("utf-8"))
    assert result.skipped == []
    assert [(line.booked_on, line.amount, line.payer_name, line.remittance) for line in result.lines] == [
        (booked_on, amount, payer.strip(), " ".join(purpose.split())) for booked_on, amount, payer, purpose in bookings
    ]
    assert len({line.checksum for line in result.lines}) == len(result.lines)
