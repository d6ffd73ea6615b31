"""The data shredder: personal data of an ended event is gone from every table, the books still add up."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, insert, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from boxoffice import db
from boxoffice.books import shred
from boxoffice.books.personal import personal_data_download
from boxoffice.books.verify import verify
from boxoffice.catalogue.models import Event
from boxoffice.cli import app
from boxoffice.errors import Conflict
from boxoffice.jobs.models import Job
from boxoffice.kit.clock import now
from boxoffice.orders.models import AuditEntry, Order, OrderPosition
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.banktransfer.models import BankImport, BankTransaction, BankTransactionMatch
from boxoffice.tickets import service as tickets
from boxoffice.tickets.models import CheckInList
from conftest import make_shop

runner = CliRunner()
ADMIN = "user:admin@acme.example"


@dataclass(frozen=True)
class Planted:
    """Personal data planted in one order, in every place it can end up."""

    email: str
    attendee: str
    payer: str
    iban: str
    card: str

    @property
    def values(self) -> tuple[str, ...]:
        return (self.email, self.attendee, self.payer, self.iban, self.card)


ZELDA = Planted(
    "zelda.planted@example.org", "Zelda Plantagenet", "Rupert Paymaster", "DE89370400440532013000", "4000056655665556"
)
OTTO = Planted(
    "otto.other@example.org", "Wilhelmina Otherland", "Otto Otherpayer", "GB33BUKB20201555555555", "5555555555554444"
)


def _ended(session: Session, event_id: int) -> None:
    event = session.get(Event, event_id)
    assert event is not None
    event.date_from, event.date_to = now() - timedelta(days=3), now() - timedelta(days=2)


def plant(session: Session, trade: Any, event_id: int, product_id: int, p: Planted = ZELDA) -> int:
    """An order of an ended event carrying the buyer's and payer's data wherever it can end up."""
    order_id = trade.sell(session, event_id, product_id, 2, p.email)
    for position in session.scalars(select(OrderPosition).where(OrderPosition.order_id == order_id)):
        position.attendee_name = p.attendee
    failed = payments.start_payment(session, order_id, provider="manual", actor=ADMIN, info={"iban": p.iban})
    payments.fail_payment(session, failed.id, actor=ADMIN, message=f"account {p.iban} of {p.payer} is closed")
    card = {"card": {"number": p.card, "holder": p.payer}, "billing": {"email": p.email}}
    payment_id = trade.pay(session, order_id, info=card)
    trade.refund(session, payment_id, "10.00", comment=f"asked by {p.attendee} <{p.email}>")
    external = payments.create_external_refund(
        session,
        order_id,
        amount=Decimal("5.00"),
        actor=ADMIN,
        provider="manual",
        payment_id=payment_id,
        info={"payer_iban": p.iban, "payer_name": p.payer},
    )
    payments.mark_refund_done(session, external.id, actor=ADMIN)
    _plant_copies(session, order_id, p)
    _plant_bank_lines(session, event_id, order_id, payment_id, p)
    # A scan at the door: the check-in tables are scanned for leftovers with a row in them.
    event = session.get(Event, event_id)
    door = tickets.create_list(session, event, name=f"Door of {event.slug}")
    first = session.scalars(select(OrderPosition).where(OrderPosition.order_id == order_id)).first()
    _scan(session, door, first.secret)
    return order_id


def _scan(session: Session, door: CheckInList, secret: str) -> tickets.Scan:
    """A staff member's scan of ``secret`` at ``door``."""
    found = tickets.open_door(session, door.id, secret)
    assert found is not None
    return tickets.scan(session, found, actor=ADMIN)


def _plant_bank_lines(session: Session, event_id: int, order_id: int, payment_id: int, p: Planted) -> None:
    """The bank statement the transfer came on: a line matched to the order and one nobody could match."""
    statement = BankImport(
        event_id=event_id, filename="statement.csv", created_by=ADMIN, content=f"{p.payer};{p.iban}".encode()
    )
    session.add(statement)
    session.flush()
    for position, remittance in enumerate((f"tickets for {p.attendee}", "unknown purpose"), start=1):
        line = BankTransaction(
            event_id=event_id,
            import_id=statement.id,
            position=position,
            booked_on=date(2030, 1, position),
            amount=Decimal("49.00"),
            currency="EUR",
            payer_name=p.payer,
            payer_iban=p.iban,
            remittance=remittance,
            checksum=f"{event_id}-{position}",
            state="matched" if position == 1 else "unmatched",
        )
        session.add(line)
        session.flush()
        if position == 1:
            session.add(
                BankTransactionMatch(
                    transaction_id=line.id, order_id=order_id, payment_id=payment_id, amount=Decimal("49.00")
                )
            )


def _plant_copies(session: Session, order_id: int, p: Planted) -> None:
    """Copies other domains keep: a mail to the buyer, a provider callback naming the payer."""
    tables = db.Base.metadata.tables
    moment = now()
    organizer_id = session.scalars(
        select(Event.organizer_id).join(Order, Order.event_id == Event.id).where(Order.id == order_id)
    ).one()
    if "mails" in tables:
        session.execute(
            insert(tables["mails"]).values(
                template="books-test",
                about=f"order:{order_id}",
                cause="planted",
                organizer_id=organizer_id,
                order_id=order_id,
                recipients=[p.email],
                context={"attendee": p.attendee},
                state="sent",
                subject=f"Your tickets, {p.attendee}",
                attempts=1,
                created_at=moment,
            )
        )
    if "provider_events" in tables:
        session.execute(
            insert(tables["provider_events"]).values(
                provider="manual",
                external_id=f"evt-{order_id}",
                event_type="payment.captured",
                payload={"payer": {"name": p.payer, "email": p.email}, "account": p.iban},
                organizer_id=organizer_id,
                order_id=order_id,
                state="processed",
                attempts=1,
                received_at=moment,
                updated_at=moment,
            )
        )


def leftovers(session: Session, values: tuple[str, ...] = ZELDA.values) -> list[str]:
    """Every text, JSON or binary cell of every table that still holds one of ``values``."""
    found = []
    for table in db.Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON | LargeBinary)]
        if not columns:
            continue
        for row in session.execute(select(*columns)).mappings():
            for name, value in row.items():
                if value is None:
                    continue
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                text = (value if isinstance(value, str) else json.dumps(value)).lower()
                found += [f"{table.name}.{name}: {v}" for v in values if v.lower() in text]
    return sorted(found)


def _books(s: Session) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for model, columns in (
        (Order, ("code", "status", "total", "payment_total", "refund_total", "pending_sum", "created_at", "paid_at")),
        (Payment, ("local_id", "amount", "state", "payment_date", "created_at")),
        (Refund, ("local_id", "amount", "state", "execution_date", "created_at")),
    ):
        rows += [tuple(r) for r in s.execute(select(*(getattr(model, c) for c in columns)).order_by(model.id))]
    return rows


@pytest.fixture
def planted(uow, shop, trade) -> int:  # type: ignore[no-untyped-def]
    """The id of an order of the ended event ``shop`` holding ZELDA's data."""
    with uow() as s:
        _ended(s, shop.event_id)
        return plant(s, trade, shop.event_id, shop.regular_id)


def _shred(uow, event_id: int, *, include_orders: bool = True, force: bool = False) -> Job:  # type: ignore[no-untyped-def]
    with uow() as s:
        job = shred.start_shred(s, event_id, include_orders=include_orders, force=force, actor=ADMIN, background=False)
    return shred.run_shred_job(job.id)


def test_after_shredding_no_personal_data_is_left_in_any_table_and_the_books_balance(  # type: ignore[no-untyped-def]
    uow, shop, trade, planted
) -> None:
    with uow() as s:
        assert len(leftovers(s)) >= 10 and verify(s).ok
        other = make_shop(s, slug="other")
        _ended(s, other.event_id)
        plant(s, trade, other.event_id, other.regular_id, OTTO)
    with uow() as s:
        others_before, books_before = leftovers(s, OTTO.values), _books(s)
    job = _shred(uow, shop.event_id)
    assert job.state == "done" and job.error is None
    with uow() as s:
        assert leftovers(s, ZELDA.values) == []
        assert leftovers(s, OTTO.values) == others_before, "another event's data is not touched"
        report = verify(s)
        assert report.ok, list(report.lines())
        assert _books(s) == books_before, "amounts, states and dates stay"


def test_the_audit_log_says_who_shredded_what_without_the_data(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    job = _shred(uow, shop.event_id)
    with uow() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "order.shredded")).one()
        order = s.get(Order, planted)
        assert order is not None
        positions = list(s.scalars(select(OrderPosition.id).where(OrderPosition.order_id == planted)))
    code = order.code
    assert entry.actor == ADMIN and entry.order_id == planted
    assert entry.data["scope"] == "payment details and buyer data"
    assert entry.data["payments"] == [f"{code}-P-1", f"{code}-P-2"]
    assert entry.data["refunds"] == [f"{code}-R-1", f"{code}-R-2"]
    assert entry.data["fields"] == ["email", *(f"attendee_name of position {p}" for p in positions)]
    assert entry.data["refund_comments"] == [f"{code}-R-1"]
    assert entry.data["audit_entries"] >= 3  # placed (e-mail), payment failed (IBAN), refund created (comment)
    assert not any(v.lower() in json.dumps(entry.data).lower() for v in ZELDA.values)
    assert (job.result["orders"], job.result["payments"], job.result["refunds"]) == (1, 2, 2)
    assert job.result["bank_lines"] == 2
    assert job.progress == job.total == 1 and job.created_by == ADMIN


def test_payment_details_alone_leave_the_buyers_email_and_names(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    _shred(uow, shop.event_id, include_orders=False)
    with uow() as s:
        rest = leftovers(s)
        order = s.get(Order, planted)
        assert order is not None and order.email == ZELDA.email
        assert not [line for line in rest if line.endswith((ZELDA.payer, ZELDA.iban, ZELDA.card))], rest
        assert "orders.email: zelda.planted@example.org" in rest
        assert "order_positions.attendee_name: Zelda Plantagenet" in rest
        assert verify(s).ok


def test_shredding_keeps_the_tickets_valid_but_removes_the_attendee_names(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        before = {p.id: p.secret for p in s.scalars(select(OrderPosition).where(OrderPosition.order_id == planted))}
    _shred(uow, shop.event_id)
    with uow() as s:
        positions = list(s.scalars(select(OrderPosition).where(OrderPosition.order_id == planted)))
        assert {p.id: p.secret for p in positions} == before
        assert [p.attendee_name for p in positions] == [None, None]
        door = s.scalars(select(CheckInList).where(CheckInList.event_id == shop.event_id)).one()
        admitted = _scan(s, door, positions[1].secret)
        assert admitted.refusal is None and admitted.checkin.result == "ok"


def test_shredding_again_changes_nothing(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    _shred(uow, shop.event_id)
    again = _shred(uow, shop.event_id)
    assert again.result["orders"] == 0
    with uow() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "order.shredded")).all()) == 1


def test_an_event_that_has_not_ended_is_only_shredded_when_forced(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Event).where(Event.id == shop.event_id).values(date_to=now() + timedelta(days=1)))
    with uow() as s, pytest.raises(Conflict) as refused:
        shred.start_shred(s, shop.event_id, include_orders=True, force=False, actor=ADMIN, background=False)
    assert refused.value.code == "shred-refused" and "force" in refused.value.detail
    assert _shred(uow, shop.event_id, force=True).state == "done"


def test_open_refunds_refuse_and_late_ones_are_skipped(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        payment_id = s.scalars(select(Payment.id).where(Payment.state == "confirmed")).one()
        job_id = shred.start_shred(s, shop.event_id, include_orders=True, force=False, actor=ADMIN, background=False).id
    with uow() as s:  # a refund is opened after the shred was queued
        payments.create_refund(s, payment_id, amount=Decimal("1.00"), actor=ADMIN)
    with pytest.raises(Conflict):
        shred.run_shred_job(job_id)
    with uow() as s:
        failed = s.get(Job, job_id)
        assert failed is not None and failed.state == "failed" and "open refunds" in (failed.error or "")
        with pytest.raises(Conflict):
            shred.start_shred(s, shop.event_id, include_orders=True, force=True, actor=ADMIN, background=False)
    with uow() as s:
        event = s.get(Event, shop.event_id)
        assert event is not None
        counts = shred.shred_orders(s, event, [planted], include_orders=True, actor=ADMIN)
        order = s.get(Order, planted)
        assert order is not None and counts.skipped_open_refunds == [order.code] and counts.orders == 0
        assert order.email == ZELDA.email


def test_attempts_of_an_uninstalled_provider_are_erased_by_default(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Payment).where(Payment.order_id == planted).values(provider="gone-plugin"))
    job = _shred(uow, shop.event_id)
    assert job.result["providers_missing"] == ["gone-plugin"]
    with uow() as s:
        assert {p.info.get("_shredded") for p in s.scalars(select(Payment))} == {True}


def test_the_download_holds_everything_that_will_be_removed(database_url: str, uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    name, stream = personal_data_download(db.session_factory(database_url), shop.event_id, include_orders=True)
    assert name.startswith("personal-data-acme-conf-") and name.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(stream)))
    manifest = json.loads(archive.read("manifest.json"))
    [order] = json.loads(archive.read("personal-data.json"))
    assert manifest["event"] == "acme/conf" and manifest["orders_with_personal_data"] == 1
    text = json.dumps(order)
    assert all(v in text for v in ZELDA.values)
    assert order["email"] == ZELDA.email and {a["name"] for a in order["attendees"]} == {ZELDA.attendee}
    assert {p["full_id"][-3:] for p in order["payments"]} == {"P-1", "P-2"}
    assert {a["action"] for a in order["audit_entries"]} >= {"order.placed", "payment.failed", "refund.created"}
    assert {c["table"] for c in order.get("copies", [])} >= {"mails", "provider_events"} & set(db.Base.metadata.tables)
    lines = json.loads(archive.read("bank-transactions.json"))
    assert [(line["payer_name"], line["payer_iban"]) for line in lines] == [(ZELDA.payer, ZELDA.iban)] * 2
    with uow() as s:
        assert leftovers(s), "the download changes nothing"


def test_shred_command_saves_the_download_then_asks(uow, shop, planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "removed.zip"
    declined = runner.invoke(
        app, ["shred", "--event", "acme/conf", "--include-orders", "--download", str(target)], input="n\n"
    )
    assert declined.exit_code == 1 and "Nothing was shredded" in declined.output
    assert zipfile.ZipFile(target).namelist() == ["personal-data.json", "bank-transactions.json", "manifest.json"]
    with uow() as s:
        assert s.get(Order, planted).email == ZELDA.email  # type: ignore[union-attr]
    done = runner.invoke(app, ["shred", "--event", "conf", "--include-orders", "--download", str(target), "--yes"])
    assert done.exit_code == 0, done.output
    assert "Shredded 2 payment(s), 2 refund(s), 3 buyer field(s)" in done.output
    with uow() as s:
        assert not leftovers(s, (ZELDA.email, ZELDA.attendee))
        actor = s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "order.shredded")).one()
        assert actor.startswith("cli")


def test_shred_command_refuses_an_event_without_dates_unless_forced(uow, shop, planted, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # the personal-data download lands in the working directory
    with uow() as s:
        s.execute(update(Event).where(Event.id == shop.event_id).values(date_from=None, date_to=None))
    refused = runner.invoke(app, ["shred", "--event", "acme/conf", "--yes"])
    assert refused.exit_code == 2 and "no dates" in refused.output
    forced = runner.invoke(app, ["shred", "--event", "acme/conf", "--yes", "--force"])
    assert forced.exit_code == 0, forced.output
    assert [p.name.startswith("personal-data-acme-conf-") for p in tmp_path.iterdir()] == [True]


def test_a_name_known_only_from_a_provider_callback_is_cut_everywhere(uow, shop, planted) -> None:  # type: ignore[no-untyped-def]
    if "provider_events" not in db.Base.metadata.tables:
        pytest.skip("no provider callbacks are stored")
    hugo = "Hugo Callbackonly"
    with uow() as s:
        order = s.get(Order, planted)
        assert order is not None
        s.execute(
            update(db.Base.metadata.tables["provider_events"])
            .where(db.Base.metadata.tables["provider_events"].c.order_id == planted)
            .values(payload={"payer": {"name": hugo}})
        )
        payments.create_external_refund(
            s, planted, amount=Decimal("1.00"), actor=ADMIN, provider="manual", comment=f"chargeback by {hugo}"
        )
        refund = s.scalars(select(Refund).where(Refund.order_id == planted, Refund.state == "external")).one()
        payments.cancel_refund(s, refund.id, actor=ADMIN)
    _shred(uow, shop.event_id, include_orders=False)
    with uow() as s:
        assert leftovers(s, (hugo,)) == []


def test_a_queued_shred_runs_after_commit_and_a_refused_one_is_not_retried(uow, shop, planted, run_jobs) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        job_id = shred.start_shred(s, shop.event_id, include_orders=True, force=False, actor=ADMIN).id
    with uow() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.state == "done" and s.get(Order, planted).email is None  # type: ignore[union-attr]
        payment_id = s.scalars(select(Payment.id).where(Payment.state == "confirmed")).one()
        again = shred.start_shred(s, shop.event_id, include_orders=True, force=False, actor=ADMIN)
        payments.create_refund(s, payment_id, amount=Decimal("1.00"), actor=ADMIN)  # opened before it runs
    with uow() as s:
        refused = s.get(Job, again.id)
        assert refused is not None and refused.state == "failed" and "open refunds" in (refused.error or "")
        outbox = db.Base.metadata.tables["outbox_jobs"]
        state = s.execute(select(outbox.c.state).where(outbox.c.params["job_id"].as_integer() == again.id)).scalar()
        assert state == "done", "a refusal is the job's answer, not a failure to retry"


def test_other_tables_holding_copies_are_found_through_the_schema() -> None:
    from boxoffice.books.sweep import linked_tables

    found = {(t.table.name, t.link.name): t for t in linked_tables()}
    tables = db.Base.metadata.tables
    for name, link in (("mails", "order_id"), ("provider_events", "order_id")):
        if name in tables:
            assert (name, link) in found
    if "provider_events" in tables:
        # Identifiers in unique constraints are never rewritten (two "[shredded]" would collide).
        assert "external_id" not in {c.name for c in found[("provider_events", "order_id")].texts}
    assert not {name for name, _ in found} & {"orders", "payments", "refunds", "audit_entries", "order_positions"}
