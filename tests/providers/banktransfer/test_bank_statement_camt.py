"""camt.053 documents become statement lines: batches split, debits negative, hostile XML refused."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.providers.banktransfer.statement import StatementError, parse_camt053, parse_statement

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_version_02_statement_with_single_batch_refund_pending_and_fee_entries() -> None:
    result = parse_camt053(sample("camt053_v02.xml"))
    assert (result.format, result.encoding) == ("camt.053", "utf-8")
    assert [(line.amount, line.remittance) for line in result.lines] == [
        (Decimal("49.00"), "DEMOCO-K7M2QL Ticket Juergen Mueller"),  # several Ustrd joined
        (Decimal("49.00"), "democo b2c3d b"),  # batch booking split into its three transfers
        (Decimal("19.00"), "DEMOCO-T6UVWD"),  # structured creditor reference
        (Decimal("49.00"), "Q9XYZ"),
        (Decimal("-19.00"), "Erstattung DEMOCO-M4NQSK"),  # DBIT: money going out
        (Decimal("68.00"), "DEMOCO-P3RTAN DEMOCO-ZZ9ABU"),  # batch without amounts stays whole
        (Decimal("-4.90"), "Kontofuehrungsentgelt Februar"),  # no details: the entry's own text
    ]
    assert all(line.booked_on == date(2024, 3, 8) and line.currency == "EUR" for line in result.lines)


def test_counterparty_is_the_debtor_of_a_credit_and_the_creditor_of_a_debit() -> None:
    lines = parse_camt053(sample("camt053_v02.xml")).lines
    credit, refund = lines[0], lines[4]
    assert (credit.payer_name, credit.payer_iban, credit.payer_bic) == (
        "Jürgen Müller",
        "DE89370400440532013000",
        "COBADEFFXXX",
    )
    assert (refund.payer_name, refund.payer_iban, refund.payer_bic) == (
        "Max Beispiel",
        "DE44500105175407324931",
        "INGDDEFFXXX",
    )
    assert lines[5].payer_name == "Firma Beispiel AG"  # shared by every transfer of the batch


def test_bank_transaction_ids_prefer_the_banks_reference_and_skip_notprovided() -> None:
    ids = [line.bank_transaction_id for line in parse_camt053(sample("camt053_v02.xml")).lines]
    assert ids == [
        "2024030800001",  # NOTPROVIDED end-to-end id: the entry's AcctSvcrRef
        "2024030800002-1",  # the transfer's own AcctSvcrRef
        "E2E-B",  # no AcctSvcrRef on the transfer: its end-to-end id
        "2024030800002",  # neither: the batch entry's reference
        "DEMOCO-M4NQS-R-1",
        "2024030800005",
        "2024030800006",
    ]


def test_pending_entries_and_too_precise_amounts_are_skipped_with_reasons() -> None:
    skipped = parse_camt053(sample("camt053_v02.xml")).skipped
    assert [(row.location, row.reason) for row in skipped] == [
        ("entry 4 (line 114)", "the entry has status PDNG, not BOOK (booked)"),
        ("entry 7 (line 150)", "1.005 has more decimals than EUR allows (2)."),
    ]
    assert "DEMOCO-E5FGHD" in skipped[0].raw


def test_version_08_statement_with_wrapped_parties_bicfi_and_datetime_booking() -> None:
    result = parse_camt053(sample("camt053_v08.xml"))
    assert [(line.amount, line.payer_name, line.payer_bic, line.bank_transaction_id) for line in result.lines] == [
        (Decimal("49.00"), "Anna Example", "GEBABEBBXXX", "8800001-A"),
        (Decimal("19.00"), "Ben Example", "", "8800001-B"),
        (Decimal("-49.00"), "Anna Example", "", "8800003"),  # a reversal still takes money out
    ]
    assert result.lines[0].booked_on == date(2024, 4, 8)
    [mismatch] = result.skipped
    assert mismatch.reason == "the 2 transaction details add up to 49.00, the entry says 50.00"


def test_same_document_gives_same_checksums_and_every_line_its_own() -> None:
    first = [line.checksum for line in parse_camt053(sample("camt053_v02.xml")).lines]
    again = [line.checksum for line in parse_camt053(sample("camt053_v02.xml")).lines]
    assert first == again
    assert len(set(first)) == len(first)


def test_elements_are_found_without_their_namespace() -> None:
    plain = re.sub(rb' xmlns(:xsi)?="[^"]*"', b"", sample("camt053_v08.xml"))
    assert parse_camt053(plain).lines == parse_camt053(sample("camt053_v08.xml")).lines


def test_utf16_document_is_read_through_parse_statement() -> None:
    text = sample("camt053_v08.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    result = parse_statement(text.encode("utf-16"), "statement.xml")
    assert result.lines == parse_camt053(sample("camt053_v08.xml")).lines


def test_camt054_notifications_have_the_same_entries() -> None:
    data = sample("camt053_v08.xml").replace(b"camt.053.001.08", b"camt.054.001.08")
    data = data.replace(b"BkToCstmrStmt", b"BkToCstmrDbtCdtNtfctn").replace(b"Stmt>", b"Ntfctn>")
    result = parse_camt053(data)
    assert result.format == "camt.054"
    assert len(result.lines) == 3


# --- hostile and broken documents -----------------------------------------------------------------


def test_truncated_xml_is_refused_with_line_and_column() -> None:
    with pytest.raises(StatementError) as caught:
        parse_camt053(sample("bad_truncated.xml"))
    assert caught.value.detail.startswith("The XML is broken at line 102, column 55:")
    assert caught.value.meta == {"line": 102, "column": 55}


def test_external_entities_are_never_resolved() -> None:
    with pytest.raises(StatementError, match="DOCTYPE") as caught:
        parse_camt053(sample("bad_xxe.xml"))
    assert "root:" not in caught.value.detail


def test_entity_expansion_bombs_are_refused() -> None:
    # Ten levels of ten-fold entities ("billion laughs"): refused before anything is expanded.
    levels = "".join(f'<!ENTITY {chr(c)} "{("&" + chr(c - 1) + ";") * 10}">' for c in range(ord("b"), ord("k") + 1))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa">{levels}]>'
        "<Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>&k;</AddtlNtryInf></Ntry></Stmt>"
        "</BkToCstmrStmt></Document>"
    )
    with pytest.raises(StatementError, match=r"(amplification|DOCTYPE)"):
        parse_camt053(bomb.encode())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>Not a statement</body></html>", "root element 'html'"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>',
            "not a camt",
        ),
        (b"", "empty"),
    ],
)
def test_xml_that_is_no_statement_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(StatementError, match=message):
        parse_camt053(data)


def test_oversized_documents_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("boxoffice.providers.banktransfer.lines.MAX_STATEMENT_BYTES", 1000)
    with pytest.raises(StatementError, match="larger than 1000 bytes"):
        parse_camt053(sample("camt053_v02.xml"))


# --- choosing the reader --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [("camt053_v02.xml", "camt.053"), ("de_savings_bank_cp1252.csv", "csv"), ("en_bank_paid_in_out.csv", "csv")],
)
def test_parse_statement_chooses_by_content(name: str, kind: str) -> None:
    # The file name is deliberately misleading: content decides.
    assert parse_statement(sample(name), "statement.txt").format == kind


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "a PDF"),
        (b"PK\x03\x04\x14\x00", "a ZIP or Excel file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel file"),
        (b":20:STARTUMSE\r\n:25:12030000/1234\r\n", "an MT940 statement"),
    ],
)
def test_parse_statement_refuses_other_file_kinds_by_name(data: bytes, kind: str) -> None:
    with pytest.raises(StatementError, match=f"'upload.bin' is {kind}"):
        parse_statement(data, "upload.bin")


# --- generated documents --------------------------------------------------------------------------

entries = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
        st.sampled_from(["CRDT", "DBIT"]),
        st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=40),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=50)
@given(entries)
def test_any_generated_statement_reads_back_with_the_right_signs(generated: list[tuple[Decimal, str, str]]) -> None:
    body = "".join(
        f"<Ntry><Amt Ccy='EUR'>{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><Sts>BOOK</Sts>"
        f"<BookgDt><Dt>2024-05-01</Dt></BookgDt><NtryDtls><TxDtls><RmtInf><Ustrd>{escape(text)}</Ustrd>"
        "</RmtInf></TxDtls></NtryDtls></Ntry>"
        for amount, indicator, text in generated
    )
    document = (
        "<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.04'><BkToCstmrStmt><Stmt>"
        f"{body}</Stmt></BkToCstmrStmt></Document>"
    ).encode()
    result = parse_camt053(document)
    assert result.skipped == []
    assert [(line.amount, line.remittance) for line in result.lines] == [
        (amount if indicator == "CRDT" else -amount, " ".join(text.split())) for amount, indicator, text in generated
    ]
