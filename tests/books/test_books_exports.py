"""Exports of one event: what each kind contains, the three formats, refusals, and the command line."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boxoffice import db
from boxoffice.books import exports
from boxoffice.books.exports import export_stream
from boxoffice.cli import app
from boxoffice.errors import InvalidValue, NotFound
from conftest import make_shop

runner = CliRunner()


def _csv(event_id: int, kind: str, database_url: str) -> list[dict[str, str]]:
    data = b"".join(export_stream(db.session_factory(database_url), event_id, kind, "csv"))
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_orders_export_has_every_balance_column(database_url: str, sold) -> None:  # type: ignore[no-untyped-def]
    rows = {r["code"]: r for r in _csv(sold.event_id, "orders", database_url)}
    assert list(rows) == list(sold.all)
    paid, over, canceled, pending = (rows[c] for c in (sold.paid, sold.overpaid, sold.canceled, sold.pending))
    assert (paid["email"], paid["status"], paid["currency"]) == ("paid@example.org", "paid", "EUR")
    assert (paid["total"], paid["payment_total"], paid["refund_total"], paid["pending_sum"]) == (
        "98.00",
        "98.00",
        "10.00",
        "10.00",
    )
    assert (paid["payment_state"], paid["underpaid"], paid["overpaid"]) == ("underpaid", "10.00", "0.00")
    assert (over["payment_state"], over["overpaid"], over["pending_sum"]) == ("overpaid", "5.00", "-5.00")
    assert (canceled["status"], canceled["total"], canceled["payment_state"]) == ("canceled", "0.00", "paid")
    assert canceled["canceled_at"].endswith("Z") and paid["paid_at"].endswith("Z")
    assert (pending["payment_state"], pending["pending_sum"], pending["paid_at"]) == ("unpaid", "19.00", "")


def test_payments_and_refunds_exports_name_full_ids(database_url: str, sold) -> None:  # type: ignore[no-untyped-def]
    payments = _csv(sold.event_id, "payments", database_url)
    assert [(p["full_id"], p["state"], p["amount"]) for p in payments] == [
        (f"{sold.paid}-P-1", "confirmed", "98.00"),
        (f"{sold.overpaid}-P-1", "confirmed", "19.00"),
        (f"{sold.overpaid}-P-2", "confirmed", "5.00"),
        (f"{sold.canceled}-P-1", "refunded", "49.00"),
    ]
    refunds = _csv(sold.event_id, "refunds", database_url)
    assert [(r["full_id"], r["payment_full_id"], r["state"], r["amount"], r["comment"]) for r in refunds] == [
        (f"{sold.paid}-R-1", f"{sold.paid}-P-1", "done", "10.00", "goodwill"),
        (f"{sold.canceled}-R-1", f"{sold.canceled}-P-1", "done", "49.00", "goodwill"),
    ]


@pytest.mark.parametrize("kind", ["orders", "payments", "refunds"])
def test_the_three_formats_carry_the_same_rows(database_url: str, sold, kind: str) -> None:  # type: ignore[no-untyped-def]
    factory = db.session_factory(database_url)
    from_csv = _csv(sold.event_id, kind, database_url)
    from_json = json.loads(b"".join(export_stream(factory, sold.event_id, kind, "json")))
    assert [r["full_id" if kind != "orders" else "code"] for r in from_json] == [
        r["full_id" if kind != "orders" else "code"] for r in from_csv
    ]
    assert {k for k, v in from_json[0].items() if v is not None} <= set(from_csv[0])
    xlsx = zipfile.ZipFile(io.BytesIO(b"".join(export_stream(factory, sold.event_id, kind, "xlsx"))))
    assert xlsx.read("xl/worksheets/sheet1.xml").count(b"<row ") == len(from_csv) + 1


def test_an_event_sees_only_its_own_rows(database_url: str, uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        other = make_shop(s, slug="other").event_id
    assert _csv(other, "orders", database_url) == []
    assert json.loads(b"".join(export_stream(db.session_factory(database_url), other, "refunds", "json"))) == []


def test_refusals_come_before_the_first_byte(database_url: str, sold) -> None:  # type: ignore[no-untyped-def]
    factory = db.session_factory(database_url)
    with pytest.raises(NotFound) as unknown_kind:
        export_stream(factory, sold.event_id, "tickets", "csv")
    assert unknown_kind.value.code == "unknown-export" and "orders" in unknown_kind.value.detail
    with pytest.raises(InvalidValue) as unknown_format:
        export_stream(factory, sold.event_id, "orders", "pdf")
    assert unknown_format.value.parameter == "format"
    with pytest.raises(NotFound):
        export_stream(factory, 999_999, "orders", "csv")


def test_progress_counts_every_row(database_url: str, sold) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []
    b"".join(export_stream(db.session_factory(database_url), sold.event_id, "payments", "csv", progress=seen.append))
    assert sum(seen) == 4


def test_row_counts_match_the_exports(database_url: str, sold) -> None:  # type: ignore[no-untyped-def]
    with db.session_factory(database_url)() as s:
        counts = {
            k: exports.count_rows(s, sold.event_id, exports.export_kind(k)) for k in ("orders", "payments", "refunds")
        }
    assert counts == {"orders": 4, "payments": 4, "refunds": 2}


def test_export_command_writes_a_file_and_stdout(database_url: str, sold, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "orders.json"
    result = runner.invoke(
        app, ["export", "orders", "--event", "acme/conf", "--format", "json", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert [o["code"] for o in json.loads(target.read_text())] == list(sold.all)
    to_stdout = runner.invoke(app, ["export", "refunds", "--event", "conf", "--format", "csv", "--output", "-"])
    assert to_stdout.exit_code == 0
    assert f"{sold.paid}-R-1" in to_stdout.stdout
    assert Decimal(to_stdout.stdout.splitlines()[-1].split(",")[5]) == Decimal("49.00")


def test_export_command_explains_what_is_wrong(database_url: str, sold) -> None:  # type: ignore[no-untyped-def]
    unknown = runner.invoke(app, ["export", "orders", "--event", "acme/nope"])
    assert unknown.exit_code == 2 and "does not exist" in unknown.output
    bad_kind = runner.invoke(app, ["export", "tickets", "--event", "conf"])
    # The kind is a choice of the command line (issue 18): it names the kinds there are.
    flat = " ".join(bad_kind.output.replace("│", " ").split())
    assert bad_kind.exit_code == 2 and "'tickets' is not one of 'orders', 'payments', 'refunds'" in flat


def test_an_event_name_shared_by_two_organizers_must_be_qualified(database_url: str, uow, sold) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        make_shop(s, organizer="globex")  # also has an event "conf"
    ambiguous = runner.invoke(app, ["export", "orders", "--event", "conf", "--output", "-"])
    assert ambiguous.exit_code == 2 and "acme/conf, globex/conf" in ambiguous.output
    qualified = runner.invoke(app, ["export", "orders", "--event", "globex/conf", "--output", "-"])
    assert qualified.exit_code == 0 and qualified.stdout.count("\n") == 1  # the header only


def test_bank_transactions_are_one_of_the_kinds(database_url: str, sold, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert list(exports.kinds()) == ["orders", "payments", "refunds", "bank-transactions"]
    target = tmp_path / "bank.xlsx"
    result = runner.invoke(
        app, ["export", "bank-transactions", "--event", "acme/conf", "--format", "xlsx", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert zipfile.ZipFile(target).read("xl/worksheets/sheet1.xml").count(b"<row ") == 1


@pytest.mark.parametrize("kind", ["orders", "payments", "refunds"])
def test_test_mode_orders_are_exported_only_when_asked_for(database_url: str, sold, rehearsed: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    factory = db.session_factory(database_url)

    def codes(**options: bool) -> list[str]:
        data = b"".join(export_stream(factory, sold.event_id, kind, "csv", **options))
        return [r["code" if kind == "orders" else "order_code"] for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))]

    real, every = codes(), codes(include_test_mode=True)
    assert rehearsed not in real and set(real) <= set(sold.all)
    assert every == [*real, rehearsed]
    with factory() as s:
        export = exports.export_kind(kind)
        counted = exports.count_rows(s, sold.event_id, export), exports.count_rows(
            s, sold.event_id, export, include_test_mode=True
        )
    assert counted == (len(real), len(every))


def test_export_command_includes_test_mode_orders_only_with_the_flag(database_url: str, sold, rehearsed: str) -> None:  # type: ignore[no-untyped-def]
    plain = runner.invoke(app, ["export", "payments", "--event", "acme/conf", "--format", "json", "--output", "-"])
    assert plain.exit_code == 0, plain.output
    assert rehearsed not in {p["order_code"] for p in json.loads(plain.stdout)}
    asked = runner.invoke(
        app, ["export", "payments", "--event", "acme/conf", "--format", "json", "--output", "-", "--include-test-mode"]
    )
    assert asked.exit_code == 0, asked.output
    assert f"{rehearsed}-P-1" in {p["full_id"] for p in json.loads(asked.stdout)}
