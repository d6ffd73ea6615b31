"""``python -m bench.run --size small|full [--only NAME]``: run the benchmarks, save raw JSON.

Each benchmark creates its own PostgreSQL database (``BOXOFFICE_BENCH_DATABASE_URL``, default the
local server as ``postgres``) and drops it afterwards. Results go to ``bench/results/`` (one JSON file
per benchmark and run, gitignored); ``docs/benchmarks.md`` holds the published numbers.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import infra

# name -> module with ``run(size) -> dict``; in the order ``make bench`` runs them.
BENCHMARKS: dict[str, str] = {
    "throughput": "bench.throughput",
    "statements": "bench.statements",
    "ceiling": "bench.ceiling",
    "rush": "bench.rush",
    "scale": "bench.scale",
    "webhooks": "bench.webhooks",
    "checkin": "bench.checkin",
    "profile": "bench.profile",
}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    try:
        postgres = subprocess.run(
            ["psql", infra.Database(infra.server_url(), "").libpq, "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        postgres = "unknown"
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "postgresql": postgres,
        "python": platform.python_version(),
        "load_average_before": load,
    }


def run_one(name: str, size: str) -> dict[str, Any]:
    runner: Callable[[str], dict[str, Any]] = importlib.import_module(BENCHMARKS[name]).run
    started = datetime.now(UTC)
    clock = time.monotonic()
    result = runner(size)
    record = {
        "benchmark": name,
        "size": size,
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(time.monotonic() - clock, 1),
        "command": " ".join(["python", "-m", "bench.run", *sys.argv[1:]]),
        "machine": machine(),
        "result": result,
    }
    infra.RESULTS.mkdir(parents=True, exist_ok=True)
    path = infra.RESULTS / f"{name}-{size}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"== {name} ({size}, {record['wall_seconds']} s) -> {path}")
    print(json.dumps(result, indent=2, default=str)[:4000])
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this one (repeatable)")
    args = parser.parse_args(argv)
    for name in args.only or list(BENCHMARKS):
        run_one(name, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
