"""Bank transfer fixtures: an event with a bank account, buyers who pay by transfer, and statement
files written from the references of real orders (German-bank CSV and camt.053 XML)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select, update

from background import run_jobs  # noqa: F401  (a fixture: jobs run right after their commit)
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments.checkout import pay
from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.banktransfer import importing
from boxoffice.providers.banktransfer.models import BankTransaction
from conftest import Shop, make_shop

SAMPLES = Path(__file__).parent / "samples"
ORGANIZER_ACCOUNT = {
    "enabled": True,
    "bank-account-holder": "Demo Konferenz GmbH",
    "iban": "DE02 1203 0000 0000 2020 51",
    "bic": "BYLADEM1001",
    "bank-name": "Demo Bank",
}
ADMIN = "user:admin@demo.example"


@pytest.fixture
def bank_shop(uow) -> Shop:  # type: ignore[no-untyped-def]
    """A committed EUR event ``demo/demo-conf`` (references start with DEMOCO) with bank transfer set up."""
    with uow() as s:
        return make_shop(
            s,
            slug="demo-conf",
            organizer="demo",
            providers={"banktransfer": dict(ORGANIZER_ACCOUNT), "manual": {"enabled": True}},
        )


@dataclass(frozen=True)
class Entry:
    """One booking of a statement written for a test."""

    amount: str
    remittance: str
    payer: str = "Erika Mustermann"
    iban: str = "DE89370400440532013000"
    booked_on: date = date(2024, 3, 8)
    transaction_id: str = ""


def german_csv(entries: Sequence[Entry]) -> bytes:
    """A savings-bank style export: semicolons, day-first dates, decimal commas, Windows-1252."""
    rows = ['"Buchungstag";"Verwendungszweck";"Beguenstigter/Zahlungspflichtiger";"IBAN";"Betrag";"Waehrung"']
    for e in entries:
        amount = e.amount.replace(".", ",")
        rows.append(f'"{e.booked_on:%d.%m.%Y}";"{e.remittance}";"{e.payer}";"{e.iban}";"{amount}";"EUR"')
    return ("\r\n".join(rows) + "\r\n").encode("cp1252")


def camt053(entries: Sequence[Entry]) -> bytes:
    """A camt.053.001.02 statement with one booked entry per transfer."""
    items = []
    for number, e in enumerate(entries, start=1):
        amount = Decimal(e.amount)
        party = "Dbtr" if amount > 0 else "Cdtr"
        reference = e.transaction_id or f"2024{number:09d}"
        items.append(
            f"""<Ntry><Amt Ccy="EUR">{abs(amount):.2f}</Amt><CdtDbtInd>{"CRDT" if amount > 0 else "DBIT"}</CdtDbtInd>
<Sts>BOOK</Sts><BookgDt><Dt>{e.booked_on.isoformat()}</Dt></BookgDt><AcctSvcrRef>{escape(reference)}</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><{party}><Nm>{escape(e.payer)}</Nm></{party}>
<{party}Acct><Id><IBAN>{e.iban}</IBAN></Id></{party}Acct></RltdPties>
<RmtInf><Ustrd>{escape(e.remittance)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>TEST</MsgId><CreDtTm>2024-03-09T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>1</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
{"".join(items)}
</Stmt></BkToCstmrStmt></Document>""".encode()


class Bank:
    """Selling, paying by transfer and importing statements, as a test needs them (test modules
    reach the statement writers through it: ``bank.csv(bank.entry("49.00", reference))``)."""

    admin = ADMIN
    entry = Entry
    account = ORGANIZER_ACCOUNT

    @staticmethod
    def csv(*entries: Entry) -> bytes:
        return german_csv(entries)

    @staticmethod
    def camt(*entries: Entry) -> bytes:
        return camt053(entries)

    def __init__(self, uow, database_url: str, shop: Shop) -> None:  # type: ignore[no-untyped-def]
        self.uow, self.url, self.shop = uow, database_url, shop

    def order(self, regular: int = 1, student: int = 0, code: str | None = None) -> int:
        """A pending order (49.00 per regular, 19.00 per student ticket), optionally with a fixed code."""
        items = [LineItem(self.shop.regular_id, regular)] if regular else []
        items += [LineItem(self.shop.student_id, student)] if student else []
        with self.uow() as s:
            order_id = orders.place_order(s, self.shop.event_id, email="b@example.org", items=items, actor="buyer").id
            if code is not None:
                s.execute(update(Order).where(Order.id == order_id).values(code=code))
        return order_id

    def choose_transfer(self, order_id: int) -> str:
        """The buyer pays by bank transfer; returns the reference they are shown."""
        outcome = pay(order_id, provider="banktransfer", actor="buyer", uow=self.uow)
        assert outcome.state == "pending"
        with self.uow() as s:
            reference = s.get(Payment, outcome.payment_id).provider_reference  # type: ignore[union-attr]
        assert reference
        return reference

    def import_file(
        self, content: bytes, filename: str = "statement.csv", actor: str = ADMIN
    ) -> importing.ImportReport:
        with self.uow() as s:
            import_id = importing.start_import(
                s, self.shop.event_id, filename=filename, content=content, actor=actor, background=False
            ).id
        return importing.run_import(import_id, url=self.url)

    def order_row(self, order_id: int) -> Order:
        with self.uow() as s:
            order = s.get(Order, order_id)
            assert order is not None
            s.expunge(order)
            return order

    def payments(self, order_id: int) -> list[tuple[str, Decimal]]:
        with self.uow() as s:
            return [
                (p.state, p.amount)
                for p in s.scalars(select(Payment).where(Payment.order_id == order_id).order_by(Payment.local_id))
            ]

    def refunds(self, order_id: int) -> list[tuple[str, Decimal]]:
        with self.uow() as s:
            return [
                (r.state, r.amount)
                for r in s.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.local_id))
            ]

    def transactions(self) -> list[BankTransaction]:
        with self.uow() as s:
            rows = list(s.scalars(select(BankTransaction).order_by(BankTransaction.id)))
            for row in rows:
                _ = row.matches
            s.expunge_all()
            return rows


@pytest.fixture
def bank(uow, database_url: str, bank_shop: Shop) -> Bank:  # type: ignore[no-untyped-def]
    return Bank(uow, database_url, bank_shop)


@pytest.fixture
def bank_in(uow, database_url: str) -> Callable[[str], Bank]:  # type: ignore[no-untyped-def]
    """``bank_in("GBP")``: a Bank for another event (slug ``conf-<currency>``) in that currency."""

    def make(currency: str) -> Bank:
        with uow() as s:
            shop = make_shop(
                s,
                currency=currency,
                slug=f"conf-{currency.lower()}",
                organizer="demo",
                providers={"banktransfer": dict(ORGANIZER_ACCOUNT)},
            )
        return Bank(uow, database_url, shop)

    return make


@pytest.fixture
def sample() -> Callable[[str], bytes]:
    return lambda name: (SAMPLES / name).read_bytes()
