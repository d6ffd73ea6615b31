"""IBAN checks, the pain.001.001.03 refund file, and the refunds CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from boxoffice.errors import InvalidValue
from boxoffice.providers.banktransfer.sepa import (
    PAIN001_NAMESPACE,
    REFUNDS_CSV_HEADER,
    CreditTransfer,
    DebtorAccount,
    pain001,
    refunds_csv,
    sepa_text,
    validate_bic,
    validate_iban,
)

NS = {"p": PAIN001_NAMESPACE}
DEBTOR = DebtorAccount("Demo Konferenz GmbH", "DE02 1203 0000 0000 2020 51", "BYLADEM1001")


def transfer(end_to_end_id: str = "K7M2Q-R-1", amount: str = "49.00", **changes: object) -> CreditTransfer:
    fields: dict[str, object] = {
        "end_to_end_id": end_to_end_id,
        "amount": Decimal(amount),
        "currency": "EUR",
        "creditor_name": "Jürgen Müller",
        "creditor_iban": "DE89370400440532013000",
        "creditor_bic": "COBADEFFXXX",
        "remittance": "Erstattung DEMOCO-K7M2QL",
    }
    fields.update(changes)
    return CreditTransfer(**fields)  # type: ignore[arg-type]


def build(*transfers: CreditTransfer, debtor: DebtorAccount = DEBTOR) -> etree._Element:
    document = pain001(debtor, transfers, "BO-20240308-1", datetime(2024, 3, 8, 9, 30, 5, 123), date(2024, 3, 11))
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return etree.fromstring(document)


def nodes(root: etree._Element, path: str) -> list[etree._Element]:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [node for node in found if isinstance(node, etree._Element)]


def text(root: etree._Element, path: str) -> str:
    [element] = nodes(root, path)
    return element.text or ""


# --- IBAN and BIC ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iban", "normalized"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("de89370400440532013000", "DE89370400440532013000"),
        ("GB29 NWBK 6016 1331 9268 19", "GB29NWBK60161331926819"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
        ("NO9386011117947", "NO9386011117947"),
    ],
)
def test_valid_ibans_are_normalized(iban: str, normalized: str) -> None:
    assert validate_iban(iban) == normalized


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        ("DE88370400440532013000", "check digits"),
        ("DE8937040044053201300", "has 22 characters"),
        ("DE89-3704-0044-0532-0130-00", "not an IBAN"),
        ("1234", "not an IBAN"),
        ("", "not an IBAN"),
    ],
)
def test_invalid_ibans_are_refused_with_the_reason(iban: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        validate_iban(iban)


def _with_check_digits(country: str, bban: str) -> str:
    number = int("".join(str(int(char, 36)) for char in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


@given(st.text(alphabet="0123456789", min_size=18, max_size=18), st.data())
def test_every_single_digit_typo_in_an_iban_is_caught(bban: str, data: st.DataObject) -> None:
    iban = _with_check_digits("DE", bban)
    assert validate_iban(iban) == iban
    position = data.draw(st.integers(min_value=2, max_value=len(iban) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != iban[position]]))
    with pytest.raises(InvalidValue):
        validate_iban(iban[:position] + digit + iban[position + 1 :])


@pytest.mark.parametrize("bic", ["COBADEFF", "cobadeffxxx", "BYLADEM1001"])
def test_valid_bics(bic: str) -> None:
    assert validate_bic(bic) == bic.upper()


@pytest.mark.parametrize("bic", ["COBADEF", "COBADEFFXX", "C0BADEFF", "COBADE1F", "COBADEFO"])
def test_invalid_bics(bic: str) -> None:
    with pytest.raises(InvalidValue):
        validate_bic(bic)


def test_sepa_text_spells_out_umlauts_and_drops_what_banks_refuse() -> None:
    assert sepa_text("Jürgen Müller & Söhne — Straße №5 <b>") == "Juergen Mueller + Soehne Strasse No5 b"
    assert sepa_text("Ticket #12; danke!") == "Ticket 12 danke"


# --- pain.001 -------------------------------------------------------------------------------------


def test_group_header_counts_and_sums_the_transfers() -> None:
    root = build(transfer("A-1", "49.00"), transfer("A-2", "19.5"))
    assert etree.QName(root).namespace == PAIN001_NAMESPACE
    assert text(root, "/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId") == "BO-20240308-1"
    assert text(root, "//p:GrpHdr/p:CreDtTm") == "2024-03-08T09:30:05"
    assert text(root, "//p:GrpHdr/p:NbOfTxs") == "2"
    assert text(root, "//p:GrpHdr/p:CtrlSum") == "68.50"
    assert text(root, "//p:GrpHdr/p:InitgPty/p:Nm") == "Demo Konferenz GmbH"


def test_one_payment_block_in_schema_order_with_the_debtor_account() -> None:
    root = build(transfer())
    [payment] = nodes(root, "//p:PmtInf")
    assert [etree.QName(child).localname for child in payment] == [
        "PmtInfId", "PmtMtd", "BtchBookg", "NbOfTxs", "CtrlSum", "PmtTpInf", "ReqdExctnDt",
        "Dbtr", "DbtrAcct", "DbtrAgt", "ChrgBr", "CdtTrfTxInf",
    ]  # fmt: skip
    assert text(root, "//p:PmtInf/p:PmtMtd") == "TRF"
    assert text(root, "//p:PmtInf/p:BtchBookg") == "false"  # each refund its own statement line
    assert text(root, "//p:PmtInf/p:PmtTpInf/p:SvcLvl/p:Cd") == "SEPA"
    assert text(root, "//p:PmtInf/p:ReqdExctnDt") == "2024-03-11"
    assert text(root, "//p:PmtInf/p:DbtrAcct/p:Id/p:IBAN") == "DE02120300000000202051"
    assert text(root, "//p:PmtInf/p:DbtrAgt/p:FinInstnId/p:BIC") == "BYLADEM1001"
    assert text(root, "//p:PmtInf/p:ChrgBr") == "SLEV"


def test_each_transfer_carries_id_amount_creditor_and_remittance() -> None:
    root = build(transfer("K7M2Q-R-1", "49.00"), transfer("H8WXE-R-1", "19.00", creditor_bic=None))
    first, second = nodes(root, "//p:CdtTrfTxInf")
    assert [etree.QName(child).localname for child in first] == [
        "PmtId", "Amt", "CdtrAgt", "Cdtr", "CdtrAcct", "RmtInf",
    ]  # fmt: skip
    assert text(first, "p:PmtId/p:EndToEndId") == "K7M2Q-R-1"
    assert text(first, "p:Amt/p:InstdAmt") == "49.00"
    assert nodes(first, "p:Amt/p:InstdAmt")[0].get("Ccy") == "EUR"
    assert text(first, "p:CdtrAgt/p:FinInstnId/p:BIC") == "COBADEFFXXX"
    assert text(first, "p:Cdtr/p:Nm") == "Juergen Mueller"
    assert text(first, "p:CdtrAcct/p:Id/p:IBAN") == "DE89370400440532013000"
    assert text(first, "p:RmtInf/p:Ustrd") == "Erstattung DEMOCO-K7M2QL"
    assert nodes(second, "p:CdtrAgt") == []  # IBAN-only: no creditor agent


def test_long_names_are_cut_to_seventy_characters() -> None:
    root = build(transfer(creditor_name="Verein zur Förderung " + "sehr " * 20 + "langer Namen"))
    name = text(root, "//p:Cdtr/p:Nm")
    assert len(name) <= 70 and name.startswith("Verein zur Foerderung sehr") and name == name.strip()


def test_a_debtor_without_bic_says_notprovided() -> None:
    root = build(transfer(), debtor=DebtorAccount("Demo", "DE02120300000000202051"))
    assert text(root, "//p:DbtrAgt/p:FinInstnId/p:Othr/p:Id") == "NOTPROVIDED"


@given(
    st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2), min_size=1, max_size=20)
)
def test_control_sum_and_count_always_match_the_transfers(amounts: list[Decimal]) -> None:
    root = build(*(transfer(f"R-{i}", str(a)) for i, a in enumerate(amounts)))
    instructed = [Decimal(node.text or "") for node in nodes(root, "//p:InstdAmt")]
    assert instructed == amounts
    for block in ("GrpHdr", "PmtInf"):
        assert Decimal(text(root, f"//p:{block}/p:CtrlSum")) == sum(amounts)
        assert text(root, f"//p:{block}/p:NbOfTxs") == str(len(amounts))


@pytest.mark.parametrize(
    ("transfers", "message"),
    [
        ((), "at least one"),
        ((transfer(currency="USD"),), "in EUR"),
        ((transfer("A"), transfer("A")), "own end-to-end id"),
        ((transfer(amount="0.00"),), "between 0.01"),
        ((transfer(amount="-5.00"),), "between 0.01"),
        ((transfer(amount="1000000000.00"),), "between 0.01"),
        ((transfer(amount="1.005"),), "more decimals"),
        ((transfer("x" * 36),), "1 to 35"),
        ((transfer("R#1"),), "character set"),
        ((transfer("/R1"),), "'/'"),
        ((transfer(creditor_iban="DE00370400440532013000"),), "check digits"),
        ((transfer(creditor_bic="NOBIC"),), "not a BIC"),
        ((transfer(remittance="x" * 141),), "longer than 140"),
        ((transfer(creditor_name="山田"),), "no characters a SEPA bank accepts"),
    ],
)
def test_refusals_name_what_is_wrong(transfers: tuple[CreditTransfer, ...], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        pain001(DEBTOR, transfers, "MSG-1", datetime(2024, 3, 8), date(2024, 3, 11))


def test_message_id_is_checked_too() -> None:
    with pytest.raises(InvalidValue, match="message id"):
        pain001(DEBTOR, [transfer()], "", datetime(2024, 3, 8), date(2024, 3, 11))


# --- refunds CSV ----------------------------------------------------------------------------------


def test_refunds_csv_has_a_header_and_one_row_per_transfer() -> None:
    data = refunds_csv([transfer(), transfer("H8WXE-R-1", "19.5", creditor_bic=None)])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows[0] == list(REFUNDS_CSV_HEADER)
    assert rows[1] == [
        "K7M2Q-R-1", "Jürgen Müller", "DE89370400440532013000", "COBADEFFXXX", "49.00", "EUR",
        "Erstattung DEMOCO-K7M2QL",
    ]  # fmt: skip
    assert rows[2][3:5] == ["", "19.50"]


def test_refunds_csv_escapes_formula_cells() -> None:
    hostile = transfer(creditor_name='=HYPERLINK("http://evil.example")', remittance="@SUM(A1)")
    [_, row] = list(csv.reader(io.StringIO(refunds_csv([hostile]).decode("utf-8"))))
    assert row[1] == '\'=HYPERLINK("http://evil.example")'
    assert row[6] == "'@SUM(A1)"
    assert row[4] == "49.00"


def test_refunds_csv_refuses_amounts_it_would_have_to_round() -> None:
    with pytest.raises(InvalidValue):
        refunds_csv([transfer(amount="1.005")])
    with pytest.raises(InvalidValue):
        refunds_csv([transfer(amount="0")])
