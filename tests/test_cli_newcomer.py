"""The command line as a newcomer meets it: version, help, choices, clear one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boxoffice import __version__, config
from boxoffice.cli import app

runner = CliRunner()


def flat(output: str) -> str:
    """The output without rich's box drawing and line wrapping."""
    return " ".join(output.replace("│", " ").split())


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"boxoffice {__version__}"


def test_books_help_lists_only_commands_it_has() -> None:
    result = runner.invoke(app, ["books", "--help"])
    assert result.exit_code == 0
    assert "verify" in result.output
    # Exports and shredding are top-level commands; the help says where they are, not that books has them.
    assert "boxoffice export" in result.output and "boxoffice shred" in result.output


def test_export_format_and_kind_are_choices(database_url: str) -> None:
    bad_format = runner.invoke(app, ["export", "orders", "--event", "demo/demo-conf", "--format", "pdf"])
    assert bad_format.exit_code == 2 and "'pdf' is not one of 'csv', 'xlsx', 'json'" in flat(bad_format.output)
    bad_kind = runner.invoke(app, ["export", "tickets", "--event", "demo/demo-conf"])
    assert bad_kind.exit_code == 2 and "'bank-transactions'" in flat(bad_kind.output)


def test_tokens_create_refuses_an_unknown_organizer_and_names_the_known_ones(database_url: str, uow) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.catalogue.models import Organizer
    from boxoffice.catalogue.service import get_or_create_organizer

    with uow() as s:
        get_or_create_organizer(s, "acme")
    result = runner.invoke(app, ["tokens", "create", "--organizer", "acme-typo", "--name", "ci"])
    assert result.exit_code == 2
    assert "Organizer 'acme-typo' does not exist. Organizers: acme." in result.output
    with uow() as s:
        assert [o.slug for o in s.query(Organizer)] == ["acme"]


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder outside any project, with no BOXOFFICE_DATABASE_URL: the default SQLite file applies."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOXOFFICE_DATABASE_URL", raising=False)
    config.get_settings.cache_clear()
    yield tmp_path
    config.get_settings.cache_clear()


@pytest.mark.parametrize(
    "command",
    [
        ["books", "verify"],
        ["export", "orders", "--event", "demo/demo-conf"],
        ["tokens", "create", "--organizer", "demo", "--name", "ci"],
        ["bank", "import", "statement.csv", "--event", "demo-conf"],
        ["demo"],
        ["serve", "--port", "8123"],
        ["worker"],
    ],
)
def test_commands_outside_a_project_say_so_in_one_line_and_create_no_database(
    empty_folder: Path, command: list[str]
) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "No database at" in lines[0] and "boxoffice migrate" in lines[0]
    assert os.listdir(empty_folder) == []


def test_a_database_that_is_not_migrated_is_one_line_not_a_traceback(
    empty_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (empty_folder / "boxoffice.sqlite3").touch()
    from boxoffice import cli

    monkeypatch.setattr("sys.argv", ["boxoffice", "books", "verify"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2


def test_verify_report_goes_to_stdout(database_url: str) -> None:
    result = runner.invoke(app, ["books", "verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() and not result.stderr.strip()


def test_event_option_takes_a_slug_or_organizer_and_slug(database_url: str, shop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for reference in ("conf", "acme/conf"):
        out = tmp_path / f"orders-{reference.replace('/', '-')}.csv"
        result = runner.invoke(app, ["export", "orders", "--event", reference, "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert out.exists() and "Wrote 0 orders row(s)" in result.stdout
        verify = runner.invoke(app, ["books", "verify", "--event", reference])
        assert verify.exit_code == 0, verify.output
