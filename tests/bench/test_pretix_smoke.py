"""The side-by-side harness against pretix (issue #16, ``bench/pretix.py``) at a tiny size.

pretix is never a dependency of boxoffice and is never installed in CI: the end-to-end test skips
unless ``BOXOFFICE_BENCH_PRETIX`` names a virtualenv with pretix. What the harness says without pretix,
and the mail sink pretix's mails go to, are tested everywhere. Speed is never asserted here.
"""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from bench import infra, pretix
from components import postgres_url

pytestmark = pytest.mark.xdist_group("bench")
ROOT = Path(__file__).resolve().parents[2]


def test_without_pretix_the_command_line_says_so_and_exits_non_zero() -> None:
    env = {k: v for k, v in os.environ.items() if k != pretix.VENV_VARIABLE}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--only", "pretix"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "pretix is not installed for the benchmark: BOXOFFICE_BENCH_PRETIX is not set" in done.stderr


def test_a_folder_without_pretix_is_named_in_the_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pretix.VENV_VARIABLE, str(tmp_path))
    with pytest.raises(pretix.PretixUnavailable, match=f"{tmp_path} has no bin/python"):
        pretix.locate()


def test_the_mail_sink_takes_and_counts_every_message() -> None:
    with pretix.smtp_sink() as (port, taken), smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for n in range(2):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "a@bench.example", "b@bench.example", f"#{n}"
            message.set_content("one line\n.\nafter a lone dot\n")
            smtp.send_message(message)
    assert taken.messages == 2
    assert taken.bytes > 0


@pytest.fixture
def installed_pretix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pretix.Pretix:
    if not os.environ.get(pretix.VENV_VARIABLE):
        pytest.skip(
            f"pretix is not installed: set {pretix.VENV_VARIABLE} to a virtualenv with pretix and gunicorn "
            "(bench/pretix.py says how); CI never installs pretix, so this always skips there"
        )
    monkeypatch.setenv("BOXOFFICE_BENCH_DATABASE_URL", postgres_url())
    monkeypatch.setattr(infra, "RESULTS", tmp_path / "results")
    return pretix.locate()


def test_versus_runs_both_sides_and_compares_them(installed_pretix: pretix.Pretix) -> None:
    result = pretix.versus("small", clients=(2,), duration=300, warmup=0, rounds=1, max_cycles=3)
    (compared,) = result["results"]
    (theirs,) = compared["runs"]["pretix"]
    (ours,) = compared["runs"]["boxoffice"]
    for measured in (theirs, ours):
        assert measured["cycles"] >= 3
        assert measured["errors"] == {}
    assert set(theirs["latencies"]) == {"place-order", "confirm-payment"}
    # Two mails a cycle, priming included: "order placed" and "payment received" (with the tickets).
    assert theirs["mails_sent"] == 2 * (theirs["all_cycles"] + theirs["priming_cycles"])
    assert compared["ratios"]["cycles_per_second"] is not None
    assert result["pretix"]["version"] == installed_pretix.version
