"""Imports that meet trouble: bookings the services refuse, money for canceled orders, a process that
dies half-way, two imports of one file at the same time — and the books' export of the lines."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from boxoffice import db
from boxoffice.books.exports import export_stream
from boxoffice.jobs.models import Job
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.providers.banktransfer import exports, importing, service
from boxoffice.providers.banktransfer.models import BankImport, BankTransaction
from boxoffice.providers.banktransfer.references import make_reference

D = Decimal


def test_a_booking_the_services_refuse_waits_and_the_rest_of_the_batch_is_booked(bank) -> None:  # type: ignore[no-untyped-def]
    canceled, fine = bank.order(), bank.order()
    fine_reference = bank.choose_transfer(fine)
    code = bank.order_row(canceled).code
    with bank.uow() as s:
        orders.cancel_order(s, canceled, actor=bank.admin)
    # The canceled order never had a bank transfer attempt: a new payment is refused for it.
    reference = make_reference("demo-conf", code)
    report = bank.import_file(bank.csv(bank.entry("49.00", reference), bank.entry("49.00", fine_reference)))
    assert report.counts == {"no-match": 1, "matched": 1}
    refused, booked = bank.transactions()
    assert booked.state == "matched" and refused.state == "no-match" and refused.matches == []
    assert "It could not be booked: Order" in refused.reason and "canceled" in refused.reason
    assert bank.payments(canceled) == [] and bank.order_row(fine).status == "paid"


def test_money_for_a_canceled_order_confirms_its_canceled_attempt_and_shows_as_owed_back(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    with bank.uow() as s:
        orders.cancel_order(s, order_id, actor=bank.admin)
    assert bank.payments(order_id) == [("canceled", D("49.00"))]
    assert bank.import_file(bank.csv(bank.entry("49.00", reference))).counts == {"matched": 1}
    order = bank.order_row(order_id)
    assert (order.status, order.payment_state, order.payment_total) == ("canceled", "underpaid", D("49.00"))
    assert bank.payments(order_id) == [("confirmed", D("49.00"))]


def test_a_transfer_arriving_after_the_deadline_pays_the_expired_order_late(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    with bank.uow() as s:
        s.get(Order, order_id).expires_at = now() - timedelta(minutes=1)
    with bank.uow() as s:
        assert orders.expire_order(s, order_id)
    assert bank.import_file(bank.csv(bank.entry("49.00", reference))).counts == {"matched": 1}
    order = bank.order_row(order_id)
    assert (order.status, order.payment_state, order.holds_quota) == ("paid", "paid", True)
    assert bank.payments(order_id) == [("confirmed", D("49.00"))]


def test_an_import_that_dies_half_way_says_so_and_finishes_when_run_again(bank, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    references = [bank.choose_transfer(bank.order()) for _ in range(5)]
    content = bank.csv(*(bank.entry("49.00", r) for r in references))
    with bank.uow() as s:
        import_id = importing.start_import(
            s, bank.shop.event_id, filename="s.csv", content=content, actor=bank.admin, background=False
        ).id
    real_book, calls = service.book, []

    def dies_on_the_fourth_line(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 4:
            raise ConnectionError("the database went away")
        return real_book(*args, **kwargs)

    monkeypatch.setattr(importing, "book", dies_on_the_fourth_line)
    progress: list[tuple[int, int]] = []
    with pytest.raises(ConnectionError):
        importing.run_import(import_id, url=bank.url, batch_size=2, progress=lambda *p: progress.append(p))
    assert progress == [(2, 5)]
    with bank.uow() as s:
        stopped = s.get(BankImport, import_id)
        assert "stopped after 2 of 5 lines" in (stopped.error or "") and stopped.content is not None
        assert s.get(Job, stopped.job_id).state == "failed"
        assert s.scalar(select(func.count(BankTransaction.id))) == 2  # the first batch is kept

    monkeypatch.setattr(importing, "book", real_book)
    report = importing.run_import(import_id, url=bank.url, batch_size=2)
    assert report.counts == {"matched": 5} and report.error is None
    with bank.uow() as s:
        assert s.scalar(select(func.count(BankTransaction.id))) == 5
        assert s.get(Job, report.job_id).state == "done"
    assert all(line.state == "matched" and len(line.matches) == 1 for line in bank.transactions())
    # Running a finished import again changes nothing.
    assert importing.run_import(import_id, url=bank.url).counts == {"matched": 5}


def test_two_imports_of_one_file_at_the_same_time_store_each_line_once(bank) -> None:  # type: ignore[no-untyped-def]
    order_ids = [bank.order() for _ in range(6)]
    content = bank.csv(*(bank.entry("49.00", bank.choose_transfer(order_id)) for order_id in order_ids))
    import_ids = []
    for _ in range(2):
        with bank.uow() as s:
            import_ids.append(
                importing.start_import(
                    s, bank.shop.event_id, filename="s.csv", content=content, actor=bank.admin, background=False
                ).id
            )
    reports: list[importing.ImportReport] = []
    start = threading.Barrier(2)

    def run(import_id: int) -> None:
        start.wait()
        reports.append(importing.run_import(import_id, url=bank.url, batch_size=2))

    threads = [threading.Thread(target=run, args=(i,)) for i in import_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(reports) == 2
    assert sorted(sum(r.counts.get(k, 0) for r in reports) for k in ("matched", "already-imported")) == [6, 6]
    with bank.uow() as s:
        assert s.scalar(select(func.count(BankTransaction.id))) == 6
    for order_id in order_ids:
        assert bank.order_row(order_id).payment_total == D("49.00")


def test_the_books_export_lists_every_line_with_the_orders_it_paid(bank) -> None:  # type: ignore[no-untyped-def]
    a, b = bank.order(), bank.order(regular=0, student=1)
    ref_a, ref_b = bank.choose_transfer(a), bank.choose_transfer(b)
    bank.import_file(bank.csv(bank.entry("68.00", f"{ref_a} {ref_b}"), bank.entry("1.00", "=1+1", payer="@evil")))
    exports.register()
    csv = b"".join(export_stream(db.session_factory(bank.url), bank.shop.event_id, "bank-transactions", "csv"))
    header, first, second = csv.decode("utf-8-sig").splitlines()
    assert header.startswith("id,bank_import,position,booked_on,currency,amount,state,orders,payer_name")
    codes = sorted([bank.order_row(a).code, bank.order_row(b).code])
    assert f",2024-03-08,EUR,68.00,matched,{' '.join(codes)},Erika Mustermann," in first
    assert ",no-match,,'@evil," in second and ",'=1+1," in second  # formula-safe
