"""Profile the server under the checkout load: py-spy samples each ``serve`` worker process.

``python -m bench.run --only profile`` runs the throughput scenario at 10 clients while py-spy
records every worker (``py-spy record --format raw``: collapsed stacks), then folds the stacks of all
workers into the functions where the time goes — by own time (self) and by time inside (total) —
restricted to what is worth reading (boxoffice, SQLAlchemy, psycopg, pydantic, argon2/jwt…).
py-spy ships on PyPI (``pip install py-spy``); it attaches to other processes as root.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench import infra
from bench.load import run_load
from bench.throughput import checkout_scenario

# A frame whose file path contains one of these is shown in the "total" ranking.
INTERESTING = ("boxoffice", "sqlalchemy", "psycopg", "pydantic", "fastapi", "starlette", "jwt", "argon2", "json")


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def fold(raw_files: list[Path], top: int = 40) -> dict[str, Any]:
    """Self and total sample counts per function over py-spy's collapsed stacks (idle frames dropped)."""
    own: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    samples = 0
    for path in raw_files:
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            frames = stack.split(";")
            # Threads waiting for work (the thread pool, the job runner's queue, the event loop's
            # selector) are sampled too when py-spy records idle threads; they are not time spent.
            if any(idle in frames[-1] for idle in ("wait (threading", "select (selectors", "get (queue")):
                continue
            count = int(count_text)
            samples += count
            own[frames[-1]] += count
            for frame in set(frames):
                if any(word in frame for word in INTERESTING):
                    inside[frame] += count

    def share(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"frame": frame, "samples": n, "percent": round(100 * n / samples, 1)}
            for frame, n in counter.most_common(top)
        ]

    return {"samples": samples, "self": share(own), "total": share(inside)}


def run(size: str, *, clients: int = 10, duration: float | None = None, warmup: float = 5.0) -> dict[str, Any]:
    """Record the workers for the load's duration after ``warmup`` seconds of the same load (first
    requests import modules and fill caches: not what a running server spends); raw stacks and the
    folded ranking go to results/."""
    spy = py_spy()
    if spy is None:
        return {"skipped": "py-spy is not installed (pip install py-spy)"}
    duration = duration or (20.0 if size == "full" else 5.0)
    infra.RESULTS.mkdir(parents=True, exist_ok=True)
    raw_files: list[Path] = []
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=None)
        with infra.running_server(database, log_name="profile") as server:
            if warmup > 0:
                run_load(server.base_url, clients=clients, scenario=checkout_scenario(catalogue), duration=warmup)
            recorders = []
            for pid in server.worker_pids():
                out = infra.RESULTS / f"profile-{pid}.txt"
                raw_files.append(out)
                command = [spy, "record", "--pid", str(pid), "--duration", str(int(duration) + 1)]
                # --gil: only samples holding the GIL, i.e. the CPU the worker spends in Python, not
                # its waits for PostgreSQL (which would otherwise rank first).
                command += ["--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking", "--gil"]
                recorders.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            result: dict[str, Any] = {}

            def load() -> None:
                result["load"] = run_load(
                    server.base_url, clients=clients, scenario=checkout_scenario(catalogue), duration=duration
                ).as_dict()

            worker = threading.Thread(target=load)
            worker.start()
            worker.join()
            for recorder in recorders:
                recorder.wait(timeout=60)
    folded = fold([f for f in raw_files if f.exists()])
    return {"clients": clients, "duration_s": duration, "load": result.get("load"), **folded}
