"""``boxoffice bank import`` and ``boxoffice bank export-refunds``, run the way an organizer runs them."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree
from typer.testing import CliRunner

from boxoffice.cli import app
from boxoffice.payments.refunding import refund_order

runner = CliRunner()


def test_bank_import_books_the_file_and_prints_a_summary_with_skipped_rows(bank, tmp_path) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    statement = bank.csv(bank.entry("49.00", reference), bank.entry("7.00", "no idea"))
    path = tmp_path / "march.csv"
    path.write_bytes(statement + b'"31.02.2024";"broken date";"X";"";"1,00";"EUR"\r\n')
    result = runner.invoke(app, ["bank", "import", str(path), "--event", "demo-conf", "--organizer", "demo"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "march.csv: 3 lines (csv, cp1252)" not in output  # the broken row is not a line
    assert "march.csv: 2 lines (csv" in output
    assert "│ matched" in output and "│ no-match" in output
    assert "'31.02.2024' is not a valid date" in output
    assert "1 line(s) wait for you to assign them" in output
    assert bank.order_row(order_id).status == "paid"
    # Again: nothing counted twice, and the summary says so.
    again = runner.invoke(app, ["bank", "import", str(path), "--event", "demo/demo-conf"])
    assert again.exit_code == 0, again.output
    assert "already-imported" in again.output and bank.order_row(order_id).payment_total == Decimal("49.00")


def test_bank_import_of_an_unreadable_file_exits_1_and_says_why(bank, tmp_path, sample) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.xml"
    path.write_bytes(sample("bad_truncated.xml"))
    result = runner.invoke(app, ["bank", "import", str(path), "--event", "demo-conf"])
    assert result.exit_code == 1
    assert "Nothing was imported from broken.xml" in result.output and "The XML is broken" in result.output
    assert bank.transactions() == []


def test_bank_import_names_a_missing_file_or_event(bank, tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = runner.invoke(app, ["bank", "import", str(tmp_path / "nope.csv"), "--event", "demo-conf"])
    assert missing.exit_code == 2 and "Cannot read" in missing.output
    path = tmp_path / "s.csv"
    path.write_bytes(bank.csv(bank.entry("1.00", "x")))
    unknown = runner.invoke(app, ["bank", "import", str(path), "--event", "nope"])
    assert unknown.exit_code == 2 and "Event 'nope' does not exist" in unknown.output


def test_export_refunds_writes_the_sepa_file_and_puts_the_refunds_in_transit(bank, tmp_path) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    bank.import_file(bank.csv(bank.entry("49.00", reference)))
    with bank.uow() as s:
        refund_order(s, order_id, amount=Decimal("49.00"), actor=bank.admin)
    target = tmp_path / "refunds.xml"
    result = runner.invoke(
        app, ["bank", "export-refunds", "--event", "demo-conf", "--format", "xml", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "1 refund(s) in file BO" in result.output
    assert etree.fromstring(target.read_bytes()).tag.endswith("Document")
    assert bank.refunds(order_id) == [("transit", Decimal("49.00"))]
    batch = result.output.split("in file ")[1].split(" ")[0]
    # Nothing left to export; the file itself can be written again by its id.
    assert runner.invoke(app, ["bank", "export-refunds", "--event", "demo-conf", "--output", "-"]).exit_code == 2
    again = runner.invoke(
        app, ["bank", "export-refunds", "--event", "demo-conf", "--output", "-", "--batch", batch, "--format", "csv"]
    )
    assert again.exit_code == 0 and reference in again.stdout


def test_bank_import_whose_every_row_is_unreadable_exits_1(bank, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "all-broken.csv"
    path.write_bytes(bank.csv() + b'"31.02.2024";"broken date";"X";"";"1,00";"EUR"\r\n')
    result = runner.invoke(app, ["bank", "import", str(path), "--event", "demo/demo-conf"])
    assert result.exit_code == 1, result.output
    assert "No row of the file could be read" in result.stdout
    assert bank.transactions() == []


def test_bank_import_takes_a_column_mapping_for_unknown_columns(bank, tmp_path) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    path = tmp_path / "own-columns.csv"
    path.write_text(f"When;Text;Who;Money\n2024-03-08;{reference};Anna Example;49.00\n", encoding="utf-8")
    refused = runner.invoke(app, ["bank", "import", str(path), "--event", "demo-conf"])
    assert refused.exit_code == 1 and "--column" in refused.output
    mapped = runner.invoke(
        app,
        ["bank", "import", str(path), "--event", "demo-conf", "--column", "booked-on=When",
         "--column", "remittance=Text", "--column", "amount=3", "--column", "payer_name=Who",
         "--date-format", "%Y-%m-%d"],
    )  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    assert "│ matched" in mapped.stdout
    assert bank.order_row(order_id).status == "paid"


def test_bank_import_refuses_a_malformed_column_option(bank, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    path.write_bytes(bank.csv())
    result = runner.invoke(app, ["bank", "import", str(path), "--event", "demo-conf", "--column", "price=3"])
    assert result.exit_code == 2
    assert "FIELD=COLUMN" in result.output and bank.transactions() == []
