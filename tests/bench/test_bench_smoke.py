"""The benchmark harness at a tiny size, so it cannot rot: every benchmark runs end to end on
PostgreSQL and reports sane outcomes. Speed is never asserted here (docs/benchmarks.md has numbers)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench import bulkload, ceiling, checkin, infra, load, profile, rush, scale, statements, throughput, webhooks
from bench import run as bench_run
from components import postgres_url, unavailable

pytestmark = pytest.mark.xdist_group("bench")


@pytest.fixture
def bench_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The PostgreSQL server the harness creates its databases on; results go to a temporary folder."""
    url = postgres_url()
    monkeypatch.setenv("BOXOFFICE_BENCH_DATABASE_URL", url)
    monkeypatch.setattr(infra, "RESULTS", tmp_path / "results")
    return url


def test_percentiles_use_the_nearest_rank() -> None:
    values = [0.001 * n for n in range(1, 101)]
    assert load.percentile(values, 50) == pytest.approx(0.050)
    assert load.percentile(values, 99) == pytest.approx(0.099)
    assert load.percentile([0.5], 95) == 0.5
    assert math.isnan(load.percentile([], 50))


def test_profile_folding_ranks_own_and_total_time_and_drops_idle_threads(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "main (app.py:1);handle (boxoffice/orders/api.py:9);execute (sqlalchemy/engine.py:3) 6\n"
        "main (app.py:1);handle (boxoffice/orders/api.py:9) 2\n"
        "worker (threading.py:1);wait (threading.py:320) 50\n"
    )
    folded = profile.fold([raw])
    assert folded["samples"] == 8
    assert folded["self"][0] == {"frame": "execute (sqlalchemy/engine.py:3)", "samples": 6, "percent": 75.0}
    assert {"frame": "handle (boxoffice/orders/api.py:9)", "samples": 8, "percent": 100.0} in folded["total"]


def test_bulk_loaded_orders_pass_books_verify(bench_server: str) -> None:
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=None)
        for lo, hi in ((1, 120), (121, 400)):
            bulkload.load_orders(
                database.libpq,
                event_id=catalogue.event_id,
                product_id=catalogue.product_ids[0],
                quota_id=catalogue.quota_id,
                lo=lo,
                hi=hi,
            )
        verify = subprocess.run(
            [str(Path(sys.executable).with_name("boxoffice")), "books", "verify"],
            env=infra.server_env(database),
            capture_output=True,
            text=True,
        )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.startswith("Books balance: all ") and "checks passed" in verify.stdout


def test_throughput_cycles_complete_without_errors(bench_server: str) -> None:
    result = throughput.run("small", clients=(2,), duration=120, warmup=0, max_cycles=3)
    (round_,) = result["rounds"]
    assert round_["cycles"] >= 3
    assert round_["errors"] == {}
    assert set(round_["latencies"]) == {"place-order", "charge"}


def test_statement_capture_sees_every_transaction_of_a_cycle(bench_server: str) -> None:
    result = statements.run("small")
    assert result["statements"] > 0
    assert any(t["thread"].startswith("boxoffice-jobs") for t in result["per_transaction"])
    assert "INSERT INTO orders" in (infra.RESULTS / "cycle-sql.txt").read_text()


def test_pgbench_runs_the_cycle_script(bench_server: str) -> None:
    if not ceiling.pgbench_available():
        unavailable("needs pgbench (apt-get install postgresql-client)")
    result = ceiling.run("small", clients=(2,), seconds=1)
    assert result["statements_per_cycle"] == 89
    assert result["rounds"][0]["cycles_per_second"] > 0


def test_ticket_rush_never_oversells(bench_server: str) -> None:
    result = rush.run("small", quota=10, buyers=30, clients=6)
    assert result["oversold"] == 0
    assert result["quota_used"] == result["seats_held"] == result["tickets_sold"] <= 10
    assert result["tickets_sold"] >= 9  # a last buyer of two may find one seat left
    assert result["books_verify_exit"] == 0
    assert set(result["errors"]) <= {"place-order 409 quota-exceeded"}


def test_checkin_scans_every_ticket_once_and_reads_the_lists(bench_server: str) -> None:
    result = checkin.run("small", orders=100, scans=60, single_scans=10, scanners=5, list_reads=2)
    answers = result["scan_answers"]
    assert sum(answers.values()) == 70
    assert set(answers) <= {"ok", "already-checked-in", "unpaid", "canceled"}
    assert result["admitted"] == answers["ok"] and result["expected"] > 0
    assert result["transport_errors"] == {}
    assert result["list_latencies"]["one list"]["count"] == 2
    assert [run["rate_per_scanner"] for run in result["door_runs"]] == [1, 5]
    assert all(run["scans"] > 0 and run["transport_errors"] == {} for run in result["door_runs"])
    assert result["capacity"]["worker_cpu_ms_per_scan"] > 0


def test_scale_times_the_organizer_reads_and_saves_their_plans(bench_server: str) -> None:
    result = scale.run("small", sizes=(200,), runs=1)
    timings = result["rounds"][0]["median_ms"]
    assert set(timings) == {
        "overpaid-list",
        "search-code-prefix",
        "search-email",
        "dashboard-warnings",
        "dashboard-daily-totals",
    }
    assert "Execution Time" in (infra.RESULTS / "scale-explain-200.txt").read_text()


def test_webhook_callbacks_are_accepted_and_processed(bench_server: str) -> None:
    result = webhooks.run("small", events=8, clients=2)
    assert result["accepted"] == result["processed"] == 8
    assert result["payments_confirmed"] == result["orders_paid"] == 8
    assert result["errors"] == {}


def test_the_command_line_writes_one_json_result_per_benchmark(bench_server: str) -> None:
    assert bench_run.main(["--only", "statements"]) == 0
    (path,) = infra.RESULTS.glob("statements-small-*.json")
    record = json.loads(path.read_text())
    assert record["benchmark"] == "statements"
    assert record["machine"]["cpus"] >= 1
