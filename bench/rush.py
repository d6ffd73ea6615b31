"""Benchmark 3: a ticket rush — one quota, many more buyers than seats, all at once.

Buyers (one order each, one or two tickets) arrive as fast as the concurrent clients can send them.
Afterwards the database is checked: the quota's ``used`` within its size, the seats held by pending
and paid orders equal to it, and ``boxoffice books verify`` passing. Oversold must be 0.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import infra
from bench.load import JSONAPI, Recorder, Scenario, Stop, order_document, run_load
from bench.wire import Client

SIZES = {
    "small": {"quota": 200, "buyers": 1000, "clients": 50},
    "full": {"quota": 1000, "buyers": 5000, "clients": 200},
}
HEADERS = {"Content-Type": JSONAPI, "Accept": JSONAPI}


@dataclass
class Sales:
    buyers: int
    next_buyer: int = 0
    tickets: int = 0
    orders: int = 0
    started: float = field(default_factory=time.monotonic)
    last_sale: float = 0.0
    # When each 409 (sold out) answer arrived, to count the refusals once nothing was left.
    refusals: list[float] = field(default_factory=list)

    def sold_out_refusals(self) -> tuple[int, float]:
        """409 answers after the last sale and the seconds they took (last sale to last refusal)."""
        after = [t for t in self.refusals if t > self.last_sale]
        return len(after), (max(after) - self.last_sale) if after else 0.0


def rush_scenario(catalogue: infra.Catalogue, sales: Sales, seed: int = 11) -> Scenario:
    rng = random.Random(seed)

    async def buyer(client: Client, rec: Recorder) -> None:
        if sales.next_buyer >= sales.buyers:
            raise Stop
        sales.next_buyer += 1
        quantity = rng.choice((1, 2))
        body = order_document(
            catalogue.event_id, [(rng.choice(catalogue.product_ids), quantity)], f"fan{sales.next_buyer}@bench.example"
        )
        response = await rec.request(client, "place-order", "POST", "/v1/orders", json=body, headers=HEADERS)
        if response.status_code == 201:
            sales.orders += 1
            sales.tickets += quantity
            sales.last_sale = time.monotonic()
        elif response.status_code == 409:
            sales.refusals.append(time.monotonic())

    return buyer


def check_books(database: infra.Database, catalogue: infra.Catalogue) -> dict[str, Any]:
    """What the database says after the rush: seats used and held, and ``books verify``'s verdict."""
    from boxoffice import db

    with db.unit_of_work(database.url) as session:
        size, used = session.execute(
            text("SELECT size, used FROM quotas WHERE id = :q"), {"q": catalogue.quota_id}
        ).one()
        held = session.execute(
            text(
                "SELECT count(*) FROM order_positions p JOIN orders o ON o.id = p.order_id "
                "WHERE o.event_id = :e AND o.status IN ('pending', 'paid') AND NOT p.canceled"
            ),
            {"e": catalogue.event_id},
        ).scalar_one()
    verify = subprocess.run(
        [str(Path(sys.executable).with_name("boxoffice")), "books", "verify"],
        env=infra.server_env(database),
        capture_output=True,
        text=True,
    )
    return {
        "quota_size": size,
        "quota_used": used,
        "seats_held": held,
        "oversold": max(used - size, 0) + max(held - size, 0),
        "books_verify_exit": verify.returncode,
        "books_verify": verify.stdout.strip().splitlines()[:1],
    }


def run(size: str, **overrides: int) -> dict[str, Any]:
    params = {**SIZES["full" if size == "full" else "small"], **overrides}
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=params["quota"])
        with infra.running_server(database, log_name="rush") as server:
            sales = Sales(params["buyers"])
            result = run_load(
                server.base_url, clients=params["clients"], scenario=rush_scenario(catalogue, sales), duration=600
            )
        books = check_books(database, catalogue)
    selling = (sales.last_sale - sales.started) if sales.last_sale else 0.0
    refused, refusing = sales.sold_out_refusals()
    return {
        **params,
        "orders_placed": sales.orders,
        "tickets_sold": sales.tickets,
        "selling_seconds": round(selling, 2),
        "tickets_per_minute": round(sales.tickets / selling * 60) if selling else 0,
        "all_buyers_seconds": round(result.seconds, 2),
        "sold_out_refusals": refused,
        "refusals_per_second": round(refused / refusing, 1) if refusing else None,
        "latencies": result.latencies,
        "errors": result.errors,
        **books,
    }
