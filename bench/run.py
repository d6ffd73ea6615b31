"""``python -m bench.run --size small|full [--only NAME] [--clients N,…] [--duration S] [--warmup S]
[--rounds N]``: run the benchmarks, save raw JSON.

Each benchmark creates its own PostgreSQL database (``BOXOFFICE_BENCH_DATABASE_URL``, default the
local server as ``postgres``) and drops it afterwards. Results go to ``bench/results/`` (one JSON file
per benchmark and run, gitignored); ``docs/benchmarks.md`` holds the published numbers.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
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
# Run only when named with --only: they need pretix installed apart (bench/pretix.py says how).
ON_REQUEST: dict[str, str] = {
    "pretix": "bench.pretix:run",
    "versus": "bench.pretix:versus",
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


def _runner(name: str) -> Callable[..., dict[str, Any]]:
    module, _, function = {**BENCHMARKS, **ON_REQUEST}[name].partition(":")
    runner: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), function or "run")
    return runner


def run_one(name: str, size: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one benchmark with those of ``options`` (clients, duration, warmup, rounds) it takes."""
    runner = _runner(name)
    accepted = inspect.signature(runner).parameters
    given = {key: value for key, value in (options or {}).items() if value is not None}
    for key in sorted(set(given) - set(accepted)):
        print(f"({name} takes no --{key}; ignored)", file=sys.stderr)
    if "clients" in given and "clients" in accepted and accepted["clients"].annotation == "int":
        # A benchmark at one concurrency (profile) takes one count.
        if len(given["clients"]) != 1:
            raise SystemExit(f"{name} runs at one concurrency: give --clients N")
        given["clients"] = given["clients"][0]
    started = datetime.now(UTC)
    clock = time.monotonic()
    result = runner(size, **{key: value for key, value in given.items() if key in accepted})
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
    parser.add_argument(
        "--only", choices=sorted({**BENCHMARKS, **ON_REQUEST}), action="append", help="run only this one (repeatable)"
    )
    parser.add_argument("--clients", type=_counts, help="concurrencies, comma-separated (e.g. 10 or 1,10,50)")
    parser.add_argument("--duration", type=float, help="measured seconds per round")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per round, not measured")
    parser.add_argument("--rounds", type=int, help="alternating rounds per side (versus)")
    args = parser.parse_args(argv)
    options = {"clients": args.clients, "duration": args.duration, "warmup": args.warmup, "rounds": args.rounds}
    for name in args.only or list(BENCHMARKS):
        run_one(name, args.size, options)
    return 0


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"client counts must be at least 1: {text!r}")
    return counts


if __name__ == "__main__":
    sys.exit(main())
