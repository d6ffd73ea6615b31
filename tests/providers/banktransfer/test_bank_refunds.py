"""Money going back by bank transfer: refunds wait for the organizer's transfer file, the file moves
them to transit, and the statement line of the money leaving completes them (or records a refund
made outside boxoffice)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import select

from boxoffice.errors import Conflict, InvalidValue
from boxoffice.orders.models import AuditEntry
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.refunding import refund_order
from boxoffice.providers.banktransfer import refunds, service

D = Decimal
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _paid_by_transfer(bank, payer: str = "Erika Mustermann", iban: str = "DE89370400440532013000"):  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    bank.import_file(bank.csv(bank.entry("49.00", reference, payer=payer, iban=iban)))
    assert bank.order_row(order_id).status == "paid"
    return order_id, reference


def _refund(bank, order_id: int, amount: str = "49.00") -> int:  # type: ignore[no-untyped-def]
    with bank.uow() as s:
        [created] = refund_order(s, order_id, amount=D(amount), actor=bank.admin, comment="canceled by the buyer")
        assert (created.provider, created.state) == ("banktransfer", "created")  # never sent silently
        return created.id


def test_money_going_out_with_the_reference_completes_the_open_refund(bank) -> None:  # type: ignore[no-untyped-def]
    order_id, reference = _paid_by_transfer(bank)
    _refund(bank, order_id)
    report = bank.import_file(bank.csv(bank.entry("-49.00", f"Erstattung {reference}", booked_on=bank.entry.booked_on)))
    assert report.counts == {"matched": 1}
    assert bank.refunds(order_id) == [("done", D("49.00"))]
    assert bank.payments(order_id) == [("refunded", D("49.00"))]
    order = bank.order_row(order_id)
    assert (order.refund_total, order.has_open_refund) == (D("49.00"), False)
    [_, line] = bank.transactions()
    assert "completes its open refund" in line.reason


def test_money_going_out_without_an_open_refund_is_an_external_refund(bank) -> None:  # type: ignore[no-untyped-def]
    order_id, reference = _paid_by_transfer(bank)
    report = bank.import_file(bank.csv(bank.entry("-20.00", f"Teilerstattung {reference}")))
    assert report.counts == {"matched": 1}
    assert bank.refunds(order_id) == [("external", D("20.00"))]
    with bank.uow() as s:
        refund = s.scalars(select(Refund).where(Refund.order_id == order_id)).one()
        assert refund.source == "external" and refund.info["iban"] == "DE89370400440532013000"
        assert "without an open refund" in (refund.comment or "")
    assert bank.order_row(order_id).has_open_refund  # waits for the organizer's decision


def test_the_transfer_file_pays_each_refund_to_the_account_its_money_came_from(bank) -> None:  # type: ignore[no-untyped-def]
    order_id, reference = _paid_by_transfer(bank, payer="Jürgen Müller & Söhne")
    refund_id = _refund(bank, order_id, "30.00")
    with bank.uow() as s:
        exported = refunds.export_refunds(s, bank.shop.event_id, fmt="xml", actor=bank.admin)
    assert exported.media_type == "application/xml" and exported.filename.endswith(".xml")
    document = etree.fromstring(exported.content)
    [item] = document.findall(".//p:CdtTrfTxInf", NS)
    with bank.uow() as s:
        full_id = s.get(Refund, refund_id).full_id
    assert item.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == full_id
    assert item.findtext("p:Amt/p:InstdAmt", namespaces=NS) == "30.00"
    assert item.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Juergen Mueller + Soehne"
    assert item.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE89370400440532013000"
    assert reference in item.findtext("p:RmtInf/p:Ustrd", namespaces=NS)
    assert document.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE02120300000000202051"
    assert document.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == exported.batch
    assert exported.refunds == [full_id] and exported.missing == []
    # Exported = on its way: it cannot go into a second file.
    assert bank.refunds(order_id) == [("transit", D("30.00"))]
    with bank.uow() as s, pytest.raises(Conflict) as nothing:
        refunds.export_refunds(s, bank.shop.event_id, fmt="xml", actor=bank.admin)
    assert nothing.value.code == "no-refunds-to-export"
    with bank.uow() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.order_id == order_id)).all()
        assert "refund.transit" in actions and "refund.exported" in actions
    # The statement that shows the money leaving completes the refund.
    bank.import_file(bank.csv(bank.entry("-30.00", f"Refund {reference} {full_id}")))
    assert bank.refunds(order_id) == [("done", D("30.00"))]
    order = bank.order_row(order_id)
    assert (order.payment_state, order.pending_sum, order.has_open_refund) == ("underpaid", D("30.00"), False)


def test_a_lost_download_can_be_written_again_without_moving_anything(bank) -> None:  # type: ignore[no-untyped-def]
    order_id, _ = _paid_by_transfer(bank)
    _refund(bank, order_id)
    with bank.uow() as s:
        first = refunds.export_refunds(s, bank.shop.event_id, fmt="csv", actor=bank.admin)
    with bank.uow() as s:
        again = refunds.export_again(s, bank.shop.event_id, first.batch)
    assert again.content == first.content and again.format == "csv"
    assert first.content.decode().splitlines()[0].startswith("end_to_end_id,creditor_name,creditor_iban")
    with bank.uow() as s:
        xml = refunds.export_again(s, bank.shop.event_id, first.batch, fmt="xml")
    assert etree.fromstring(xml.content).findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == first.batch
    assert bank.refunds(order_id) == [("transit", D("49.00"))]


def test_a_refund_without_a_known_account_waits_until_the_buyer_gives_one(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    bank.choose_transfer(order_id)
    with bank.uow() as s:  # the organizer confirmed the money by hand: no statement shows the payer
        payment = s.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        from boxoffice.payments import service as payments

        payments.confirm_payment(s, payment.id, actor=bank.admin)
    refund_id = _refund(bank, order_id)
    with bank.uow() as s, pytest.raises(Conflict) as waiting:
        refunds.export_refunds(s, bank.shop.event_id, fmt="xml", actor=bank.admin)
    [missing] = waiting.value.meta["missing"]
    assert "collect the buyer's name and IBAN" in missing["reason"]
    with bank.uow() as s, pytest.raises(InvalidValue) as typo:
        service.set_refund_account(s, refund_id, holder="Erika", iban="DE89370400440532013001", actor="buyer:X")
    assert typo.value.pointer == "/data/attributes/iban"
    with bank.uow() as s:
        service.set_refund_account(
            s,
            refund_id,
            holder="Erika Mustermann",
            iban="de89 3704 0044 0532 0130 00",
            bic="cobadeffxxx",
            actor="buyer",
        )
    with bank.uow() as s:
        refund = s.get(Refund, refund_id)
        assert (refund.info["iban"], refund.info["bic"]) == ("DE89370400440532013000", "COBADEFFXXX")
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "refund.account-set")).one()
        assert entry.data == {"refund": refund.full_id, "account_ending": "3000"}  # never the IBAN itself
    with bank.uow() as s:
        exported = refunds.export_refunds(s, bank.shop.event_id, fmt="xml", actor=bank.admin)
    assert b"COBADEFFXXX" in exported.content
    with bank.uow() as s, pytest.raises(Conflict):  # in a file now: the account is fixed
        service.set_refund_account(s, refund_id, holder="Other", iban="DE89370400440532013000", actor="buyer")


def test_sepa_files_are_refused_for_other_currencies_but_csv_works(bank_in) -> None:  # type: ignore[no-untyped-def]
    pounds = bank_in("GBP")
    order_id = pounds.order()
    reference = pounds.choose_transfer(order_id)
    # A UK export has no currency column: its amounts are in the account's currency, the event's.
    statement = f"Date,Description,Payer,IBAN,Amount\n2024-03-08,{reference},Jane Smith,GB29NWBK60161331926819,49.00\n"
    assert pounds.import_file(statement.encode()).counts == {"matched": 1}
    assert pounds.payments(order_id) == [("confirmed", D("49.00"))]
    _refund(pounds, order_id)
    with pounds.uow() as s, pytest.raises(InvalidValue) as sepa:
        refunds.export_refunds(s, pounds.shop.event_id, fmt="xml", actor=pounds.admin)
    assert sepa.value.code == "not-sepa"
    with pounds.uow() as s:
        exported = refunds.export_refunds(s, pounds.shop.event_id, fmt="csv", actor=pounds.admin)
    [_, row] = exported.content.decode().splitlines()
    assert row.endswith(",GB29NWBK60161331926819,,49.00,GBP," + row.split(",")[-1])


def test_an_unknown_format_is_refused(bank) -> None:  # type: ignore[no-untyped-def]
    with bank.uow() as s, pytest.raises(InvalidValue) as caught:
        refunds.export_refunds(s, bank.shop.event_id, fmt="pdf", actor=bank.admin)
    assert caught.value.parameter == "format"
