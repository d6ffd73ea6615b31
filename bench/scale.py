"""Benchmark 5: the organizer's queries at 10k, 100k and 1M orders.

The orders are bulk-loaded (:mod:`bench.bulkload`) into one event, size after size. At each size the
organizer's reads are timed in process — the API's overpaid list and order search through the app
(Starlette's test client, so the JSON:API rendering is in the time), the control panel's dashboard
functions called directly — median of several runs, and every SQL statement they send is run again
under ``EXPLAIN (ANALYZE, BUFFERS)`` into ``results/scale-explain-<size>.txt``.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from bench import bulkload, infra
from bench.statements import Capture, capturing

SIZES = {"small": (10_000,), "full": (10_000, 100_000, 1_000_000)}
RUNS = 7


def _median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm: plans cached, pages in shared buffers, as on a server that is up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def _explain(url: str, capture: Capture) -> str:
    from boxoffice.db import get_engine

    parts = []
    seen: Counter[str] = Counter()
    with get_engine(url).connect() as conn:
        for tx in capture.transactions:
            for sql, params in zip(tx.statements, tx.parameters, strict=True):
                seen[sql] += 1
                if not sql.upper().startswith("SELECT") or seen[sql] > 1:
                    continue
                plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).scalars().all()
                parts.append(f"{sql}\n  -- {params}\n" + "\n".join(f"  {line}" for line in plan))
        conn.rollback()
    # A statement sent once per row (a lazy load) is explained once and counted.
    repeated = [f"-- sent {n} times: {sql[:160]}" for sql, n in seen.items() if n > 1]
    return "\n\n".join(parts + repeated)


def measure(database: infra.Database, catalogue: infra.Catalogue, size: int, runs: int = RUNS) -> dict[str, Any]:
    """Median milliseconds of each organizer read at the current size, with their plans saved."""
    from fastapi.testclient import TestClient

    from boxoffice import db
    from boxoffice.app import create_app
    from boxoffice.catalogue.models import Event
    from boxoffice.web.control import queries

    middle = size // 2
    with db.unit_of_work(database.url) as session:
        code = session.execute(text("SELECT code FROM orders WHERE id = :id"), {"id": middle}).scalar_one()
    auth = {"Authorization": f"Bearer {catalogue.token}"}
    event = catalogue.event_id
    api_reads = {
        "overpaid-list": f"/v1/orders?filter[payment-state]=overpaid&filter[event]={event}",
        "search-code-prefix": f"/v1/orders?filter[search]={code[:3]}&filter[event]={event}",
        "search-email": f"/v1/orders?filter[search]=buyer{middle}@&filter[event]={event}",
    }
    timings: dict[str, float] = {}
    plans: list[str] = []
    with infra.app_environment(database), TestClient(create_app()) as client:

        def get(path: str) -> Callable[[], object]:
            def call() -> object:
                response = client.get(path, headers=auth)
                response.raise_for_status()
                return response

            return call

        def dashboard(fn: Callable[..., object]) -> Callable[[], object]:
            def call() -> object:
                with db.unit_of_work(database.url) as session:
                    found = session.get_one(Event, event)
                    return fn(session, found) if fn is queries.daily_totals else fn(session, found, "/control/")

            return call

        reads = {name: get(path) for name, path in api_reads.items()}
        reads["dashboard-warnings"] = dashboard(queries.warnings)
        reads["dashboard-daily-totals"] = dashboard(queries.daily_totals)
        for name, action in reads.items():
            timings[name] = _median_ms(action, runs)
            with capturing(database.url) as capture:
                action()
            plans.append(f"==== {name} ({size} orders) ====\n{_explain(database.url, capture)}")
    infra.RESULTS.mkdir(parents=True, exist_ok=True)
    (infra.RESULTS / f"scale-explain-{size}.txt").write_text("\n\n".join(plans) + "\n")
    return timings


def run(size: str, *, sizes: tuple[int, ...] | None = None, runs: int = RUNS) -> dict[str, Any]:
    """Load each size in turn into one database and time the organizer's reads at it."""
    from boxoffice import db
    from boxoffice.books import rollup

    sizes = sizes or SIZES[size]
    rounds: list[dict[str, Any]] = []
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=None)
        loaded = 0
        for target in sizes:
            start = time.perf_counter()
            bulkload.load_orders(
                database.libpq,
                event_id=catalogue.event_id,
                product_id=catalogue.product_ids[0],
                quota_id=catalogue.quota_id,
                lo=loaded + 1,
                hi=target,
            )
            # The rows went in behind the services' back: the dashboard's rollup is rebuilt from them
            # (what migration 0014 did for the orders there were), and counted in the load time.
            with db.unit_of_work(database.url) as session:
                rollup.rebuild(session, catalogue.event_id)
            load_seconds = time.perf_counter() - start
            loaded = target
            rounds.append(
                {
                    "orders": target,
                    "load_s": round(load_seconds, 1),
                    "median_ms": measure(database, catalogue, target, runs),
                }
            )
    return {"runs": runs, "rounds": rounds}
