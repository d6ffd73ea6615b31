"""Benchmark 2: the database ceiling — pgbench running one cycle's SQL (``bench/pgbench_cycle.sql``)
at the same concurrency as the throughput benchmark, on a database seeded the same way.

boxoffice's cycles/s divided by pgbench's says how much of the database's capacity the Python side
(and everything between) leaves on the table.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

from bench import infra

SCRIPT = infra.ROOT / "pgbench_cycle.sql"
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)


def statements_per_cycle() -> int:
    """SQL statements in the script (``BEGIN``/``COMMIT`` and meta-commands not counted)."""
    lines = [line.strip() for line in SCRIPT.read_text().splitlines()]
    return sum(1 for line in lines if line and not line.startswith(("--", "\\", "BEGIN", "COMMIT")))


def pgbench_available() -> bool:
    return shutil.which("pgbench") is not None


def pgbench(database: infra.Database, catalogue: infra.Catalogue, *, clients: int, seconds: int) -> dict[str, Any]:
    """One pgbench run of the cycle script; cycles/s is pgbench's tps (one script run = one cycle)."""
    executable = shutil.which("pgbench")
    if executable is None:
        raise RuntimeError("pgbench is missing: apt-get install postgresql-client")
    variables = {
        "event": catalogue.event_id,
        "organizer": catalogue.organizer_id,
        "product": catalogue.product_ids[0],
        "quota": catalogue.quota_id,
    }
    command = [executable, "--no-vacuum", "--client", str(clients), "--jobs", str(min(clients, 2))]
    command += ["--time", str(seconds), "--file", str(SCRIPT)]
    command += [arg for name, value in variables.items() for arg in ("--define", f"{name}={value}")]
    done = subprocess.run([*command, database.libpq], capture_output=True, text=True, check=False)
    tps, latency = _TPS.search(done.stdout), _LATENCY.search(done.stdout)
    if done.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr[-2000:]}")
    return {
        "clients": clients,
        "cycles_per_second": round(float(tps.group(1)), 1),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
    }


def run(size: str, *, clients: tuple[int, ...] = (1, 10, 50), seconds: int | None = None) -> dict[str, Any]:
    """pgbench at each concurrency, each on a fresh database seeded like the throughput benchmark's."""
    seconds = seconds or (20 if size == "full" else 5)
    rounds = []
    for count in clients:
        with infra.fresh_database() as database:
            catalogue = infra.seed(database, quota_size=None)
            rounds.append(pgbench(database, catalogue, clients=count, seconds=seconds))
    return {"statements_per_cycle": statements_per_cycle(), "seconds": seconds, "rounds": rounds}
