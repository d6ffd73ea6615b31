"""Importing statements books the money of real orders: full, partial and split payments, references
hidden in noise, lines that wait for the organizer, and files imported twice or not readable at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.jobs.models import Job
from boxoffice.orders.models import AuditEntry
from boxoffice.payments.models import Payment
from boxoffice.providers.banktransfer import service
from boxoffice.providers.banktransfer.models import BankImport, BankTransaction
from conftest import make_shop

D = Decimal
ADMIN = "user:admin@demo.example"


def test_a_transfer_with_the_reference_confirms_the_pending_attempt_and_pays_the_order(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    report = bank.import_file(bank.csv(bank.entry("49.00", reference)))
    assert report.counts == {"matched": 1} and report.format == "csv" and report.error is None
    order = bank.order_row(order_id)
    assert (order.status, order.payment_state, order.pending_sum) == ("paid", "paid", D("0.00"))
    # The buyer's own attempt is the one confirmed: no second payment appears.
    assert bank.payments(order_id) == [("confirmed", D("49.00"))]
    [line] = bank.transactions()
    assert line.state == "matched" and f"reference {reference}" in line.reason
    assert [(m.order_id, m.amount) for m in line.matches] == [(order_id, D("49.00"))]
    with bank.uow() as s:
        payment = s.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        assert (
            payment.info["payer_name"] == "Erika Mustermann" and payment.info["payer_iban"] == "DE89370400440532013000"
        )
        assert payment.info["bank_transaction"] == line.id
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "bank-transaction.matched")).one()
        assert (
            entry.actor == ADMIN and entry.data["transaction"] == line.id and entry.data["payment"] == payment.full_id
        )


def test_the_job_reports_progress_and_the_file_is_not_kept(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    report = bank.import_file(bank.csv(bank.entry("49.00", reference), bank.entry("5.00", "no reference")))
    with bank.uow() as s:
        job = s.get(Job, report.job_id)
        assert (job.kind, job.state, job.progress, job.total) == ("banktransfer.import", "done", 2, 2)
        assert job.result["counts"] == {"matched": 1, "no-match": 1}
        assert s.get(BankImport, report.import_id).content is None


def test_a_smaller_transfer_is_a_confirmed_partial_payment_and_a_second_one_pays_the_rest(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    bank.import_file(bank.csv(bank.entry("20.00", reference)))
    order = bank.order_row(order_id)
    assert (order.status, order.payment_state, order.pending_sum) == ("pending", "partially-paid", D("29.00"))
    # The attempt follows the money: confirmed for what arrived, the correction in the audit log.
    assert bank.payments(order_id) == [("confirmed", D("20.00"))]
    with bank.uow() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.order_id == order_id)).all()
        assert "payment.amount-corrected" in actions
    bank.import_file(bank.csv(bank.entry("29.00", f"Rest {reference}")))
    order = bank.order_row(order_id)
    assert (order.status, order.payment_state) == ("paid", "paid")
    assert bank.payments(order_id) == [("confirmed", D("20.00")), ("confirmed", D("29.00"))]


def test_one_transfer_pays_several_orders_when_their_sums_fit_exactly(bank) -> None:  # type: ignore[no-untyped-def]
    first, second = bank.order(), bank.order(regular=0, student=2)
    ref_first, ref_second = bank.choose_transfer(first), bank.choose_transfer(second)
    report = bank.import_file(bank.camt(bank.entry("87.00", f"Sammelzahlung {ref_first} und {ref_second}")), "s.xml")
    assert report.format == "camt.053" and report.counts == {"matched": 1}
    assert bank.order_row(first).status == "paid" and bank.order_row(second).status == "paid"
    assert bank.payments(first) == [("confirmed", D("49.00"))]
    assert bank.payments(second) == [("confirmed", D("38.00"))]
    [line] = bank.transactions()
    assert sorted((m.order_id, m.amount) for m in line.matches) == [(first, D("49.00")), (second, D("38.00"))]


def test_a_transfer_for_several_orders_that_does_not_add_up_waits_for_the_organizer(bank) -> None:  # type: ignore[no-untyped-def]
    first, second = bank.order(), bank.order()
    ref_first, ref_second = bank.choose_transfer(first), bank.choose_transfer(second)
    report = bank.import_file(bank.csv(bank.entry("90.00", f"{ref_first} {ref_second}")))
    assert report.counts == {"no-match": 1}
    [line] = bank.transactions()
    assert "do not add up" in line.reason and line.matches == []
    assert bank.payments(first) == [("pending", D("49.00"))]


def test_a_reference_written_carelessly_inside_other_text_is_found(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    prefix, code = reference.split("-")
    noisy = f"SEPA-GUTSCHRIFT Kunde 4711 Ticket {prefix.lower()} {code[:3]} {code[3:].lower()} danke EREF+NOTPROVIDED"
    report = bank.import_file(bank.csv(bank.entry("49.00", noisy)))
    assert report.counts == {"matched": 1}
    assert bank.order_row(order_id).status == "paid"


def test_a_transfer_naming_the_order_without_an_attempt_records_a_new_payment(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()  # the buyer never chose a payment method, but paid by transfer anyway
    with bank.uow() as s:
        from boxoffice.orders.models import Order

        code = s.get(Order, order_id).code
    report = bank.import_file(bank.csv(bank.entry("49.00", f"Order {code}")))
    assert report.counts == {"matched": 1}
    with bank.uow() as s:
        payment = s.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        assert (payment.provider, payment.state, payment.amount) == ("banktransfer", "confirmed", D("49.00"))
        # The payment carries the order's reference like any bank transfer attempt.
        assert payment.provider_reference and payment.provider_reference.endswith(code + payment.provider_reference[-1])


def test_an_unmatched_transfer_waits_and_the_organizer_assigns_it(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    bank.choose_transfer(order_id)
    report = bank.import_file(bank.csv(bank.entry("49.00", "Tickets for my team")))
    assert report.counts == {"no-match": 1}
    [line] = bank.transactions()
    assert line.state == "no-match" and "names no reference" in line.reason
    code = bank.order_row(order_id).code
    with bank.uow() as s:
        assigned = service.assign(s, line.id, order_id, actor=ADMIN)
        assert assigned.state == "matched" and assigned.resolved_by == ADMIN
        assert assigned.reason.startswith(f"Assigned to order {code} by {ADMIN}.")
    assert bank.order_row(order_id).status == "paid"
    assert bank.payments(order_id) == [("confirmed", D("49.00"))]
    with bank.uow() as s, pytest.raises(Conflict) as again:
        service.assign(s, line.id, order_id, actor=ADMIN)
    assert again.value.code == "bank-transaction-not-open"


def test_an_unmatched_transfer_tells_the_organizer_once(bank) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.accounts.service import create_user
    from boxoffice.mail.models import Mail

    with bank.uow() as s:
        create_user(s, email="admin@demo.example", password="demo-admin", organizer_slug="demo", role="admin")
    bank.import_file(bank.csv(bank.entry("12.00", "??"), bank.entry("-4.90", "Kontofuehrung")))
    with bank.uow() as s:
        # Money in that matches nothing is news; a bank fee going out is not.
        assert s.scalar(select(func.count(Mail.id)).where(Mail.template == "unmatched-transfer")) == 1


def test_assigning_to_an_order_of_another_event_is_refused(bank, uow) -> None:  # type: ignore[no-untyped-def]
    bank.import_file(bank.csv(bank.entry("49.00", "unknown")))
    [line] = bank.transactions()
    with uow() as s:
        other = make_shop(s, slug="other-conf", organizer="demo")
    from boxoffice.orders import service as orders
    from boxoffice.orders.service import LineItem

    with uow() as s:
        foreign = orders.place_order(s, other.event_id, email=None, items=[LineItem(other.regular_id, 1)], actor="b").id
    with uow() as s, pytest.raises(NotFound) as caught:
        service.assign(s, line.id, foreign, actor=ADMIN)
    assert caught.value.pointer == "/data/relationships/order"


def test_discarding_a_waiting_line_is_recorded_and_final_for_matching(bank) -> None:  # type: ignore[no-untyped-def]
    bank.import_file(bank.csv(bank.entry("-4.90", "Entgelt Kontofuehrung")))
    [line] = bank.transactions()
    assert line.state == "no-match"
    with bank.uow() as s:
        done = service.discard(s, line.id, actor=ADMIN, comment="bank fee")
        assert done.state == "discarded" and done.reason.startswith(f"Discarded by {ADMIN}: bank fee.")
    with bank.uow() as s:
        assert service.discard(s, line.id, actor=ADMIN).state == "discarded"  # idempotent


def test_a_matched_line_cannot_be_discarded(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    bank.import_file(bank.csv(bank.entry("49.00", bank.choose_transfer(order_id))))
    [line] = bank.transactions()
    with bank.uow() as s, pytest.raises(Conflict):
        service.discard(s, line.id, actor=ADMIN)


def test_importing_the_same_file_twice_counts_nothing_twice(bank) -> None:  # type: ignore[no-untyped-def]
    paid, partly = bank.order(), bank.order(regular=2)
    ref_paid, ref_partly = bank.choose_transfer(paid), bank.choose_transfer(partly)
    statement = bank.csv(
        bank.entry("49.00", ref_paid),
        bank.entry("50.00", ref_partly),
        bank.entry("50.00", ref_partly),
        bank.entry("3.00", "?"),
    )
    first = bank.import_file(statement)
    assert first.counts == {"matched": 3, "no-match": 1}
    balances = (bank.order_row(paid).payment_total, bank.order_row(partly).payment_total)
    assert balances == (D("49.00"), D("100.00"))  # two identical transfers in one file both count

    second = bank.import_file(statement)
    assert second.counts == {"already-imported": 4} and len(second.duplicates) == 4
    assert (bank.order_row(paid).payment_total, bank.order_row(partly).payment_total) == balances
    assert len(bank.payments(partly)) == 2
    assert len(bank.transactions()) == 4
    assert all("not counted again" in d["reason"] for d in second.duplicates)


def test_an_overlapping_statement_adds_only_the_new_lines(bank) -> None:  # type: ignore[no-untyped-def]
    a, b = bank.order(), bank.order()
    ref_a, ref_b = bank.choose_transfer(a), bank.choose_transfer(b)
    bank.import_file(bank.csv(bank.entry("49.00", ref_a)))
    report = bank.import_file(bank.csv(bank.entry("49.00", ref_a), bank.entry("49.00", ref_b)))
    assert report.counts == {"already-imported": 1, "matched": 1}
    assert bank.payments(a) == [("confirmed", D("49.00"))] and bank.payments(b) == [("confirmed", D("49.00"))]


def test_the_same_booking_from_another_export_format_is_not_counted_again(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    xml = bank.camt(bank.entry("49.00", f"{reference} Ticket", transaction_id="BANK-4711"))
    csv_header = "Buchungstag;Verwendungszweck;Name;Betrag;Transaktions-ID\n"
    csv = (csv_header + f"08.03.2024;Ticket {reference};Erika Mustermann;49,00;BANK-4711\n").encode()
    assert bank.import_file(xml, "s.xml").counts == {"matched": 1}
    report = bank.import_file(csv)
    assert report.counts == {"already-imported": 1}
    first, repeat = bank.transactions()
    assert repeat.state == "already-imported" and repeat.duplicate_of_id == first.id
    assert bank.payments(order_id) == [("confirmed", D("49.00"))]


def test_a_payer_chosen_id_used_twice_in_one_file_does_not_hide_a_transfer(bank) -> None:  # type: ignore[no-untyped-def]
    a, b = bank.order(), bank.order()
    ref_a, ref_b = bank.choose_transfer(a), bank.choose_transfer(b)
    header = "Buchungstag;Verwendungszweck;Name;Betrag;End-to-End-ID\n"
    rows = f"08.03.2024;{ref_a};Anna;49,00;TICKET\n08.03.2024;{ref_b};Bert;49,00;TICKET\n"
    assert bank.import_file((header + rows).encode()).counts == {"matched": 2}


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("bad_unknown_columns.csv", "No header row"),
        ("bad_truncated.xml", "The XML is broken"),
        ("bad_utf16_no_bom.csv", "NUL bytes"),
        ("bad_xxe.xml", "DOCTYPE"),
    ],
)
def test_a_file_that_cannot_be_read_imports_nothing_and_says_why(bank, sample, name, complaint) -> None:  # type: ignore[no-untyped-def]
    report = bank.import_file(sample(name), name)
    assert report.error is not None and complaint in report.error
    assert report.counts == {} and bank.transactions() == []
    with bank.uow() as s:
        job = s.get(Job, report.job_id)
        assert job.state == "failed" and complaint in job.error
        assert s.get(BankImport, report.import_id).content is None


def test_unreadable_rows_are_listed_with_their_reason_and_the_rest_is_imported(bank, sample) -> None:  # type: ignore[no-untyped-def]
    report = bank.import_file(sample("de_savings_bank_cp1252.csv"))
    assert report.encoding == "cp1252" and report.lines == 5
    assert [row["reason"] for row in report.skipped_rows] == ["'31.02.24' is not a valid date"]
    assert sum(report.counts.values()) == 5  # none of the sample's references is an order of this event


def test_formula_cells_are_stored_as_the_text_they_are(bank, sample) -> None:  # type: ignore[no-untyped-def]
    report = bank.import_file(sample("formula_injection.csv"))
    assert report.counts == {"no-match": 2} and len(report.skipped_rows) == 1
    assert bank.transactions()[0].payer_name == '=HYPERLINK("http://evil.example","click")'


def test_empty_and_oversized_uploads_are_refused_before_anything_is_stored(bank, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.providers.banktransfer import importing, lines

    with bank.uow() as s, pytest.raises(InvalidValue) as empty:
        importing.start_import(s, bank.shop.event_id, filename="x.csv", content=b"  \n", actor=ADMIN)
    assert empty.value.pointer == "/data/attributes/content"
    monkeypatch.setattr(lines, "MAX_STATEMENT_BYTES", 10)
    with bank.uow() as s, pytest.raises(InvalidValue) as huge:
        importing.start_import(s, bank.shop.event_id, filename="x.csv", content=b"x" * 11, actor=ADMIN)
    assert "larger than 10 bytes" in huge.value.detail
    with bank.uow() as s:
        assert s.scalar(select(func.count(BankImport.id))) == 0


def test_samples_from_real_banks_book_orders_whose_codes_they_name(bank, sample) -> None:  # type: ignore[no-untyped-def]
    # The camt sample pays DEMOCO-K7M2QL (49.00) and, in a batch, DEMOCO-B2C3DB (49.00) and -T6UVWD (19.00).
    k7m2q, b2c3d, t6uvw = (
        bank.order(code="K7M2Q"),
        bank.order(code="B2C3D"),
        bank.order(regular=0, student=1, code="T6UVW"),
    )
    report = bank.import_file(sample("camt053_v02.xml"), "camt053_v02.xml")
    assert report.format == "camt.053"
    for order_id in (k7m2q, b2c3d, t6uvw):
        assert bank.order_row(order_id).status == "paid"
    with bank.uow() as s:
        stored = s.scalar(select(func.count(BankTransaction.id)))
        assert stored == report.lines == sum(report.counts.values())
