"""Benchmark 1: order + payment cycles per second against ``boxoffice serve --workers 2``.

One cycle is what a buyer's checkout does: ``POST /v1/orders`` (1 or 2 tickets, payment mode
sandbox) and ``POST /v1/orders/{id}/charge`` with the sandbox's succeeding test card and the buyer
token the order came with; the cycle counts once the charge answers 200 with ``status`` true.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench import infra
from bench.load import CHARGE_DOCUMENT, JSONAPI, LoadResult, Recorder, Scenario, order_document, run_load
from bench.wire import Client

HEADERS = {"Content-Type": JSONAPI, "Accept": JSONAPI}


def random_positions(products: tuple[int, ...], rng: random.Random) -> list[tuple[int, int]]:
    """One or two tickets: one product once, one product twice, or both products once."""
    shape = rng.randrange(3)
    if shape == 0:
        return [(rng.choice(products), 1)]
    if shape == 1:
        return [(rng.choice(products), 2)]
    return [(products[0], 1), (products[1], 1)]


def checkout_scenario(catalogue: infra.Catalogue, seed: int = 7) -> Scenario:
    """Place an order and charge it; a cycle counts when the charge took the money."""
    rng = random.Random(seed)
    counter = iter(range(1, 1 << 62))

    async def cycle(client: Client, rec: Recorder) -> None:
        start = time.monotonic()
        body = order_document(
            catalogue.event_id, random_positions(catalogue.product_ids, rng), f"buyer{next(counter)}@bench.example"
        )
        placed = await rec.request(client, "place-order", "POST", "/v1/orders", json=body, headers=HEADERS)
        if placed.status_code != 201:
            return
        document = placed.json()
        headers = {**HEADERS, "Authorization": f"Bearer {document['meta']['access-token']}"}
        url = f"/v1/orders/{document['data']['id']}/charge"
        charged = await rec.request(client, "charge", "POST", url, json=CHARGE_DOCUMENT, headers=headers)
        if charged.status_code == 200 and charged.json()["data"]["attributes"]["status"] is True:
            rec.cycle(start)
        elif charged.status_code == 200:
            rec.error("charge 200 status-false")

    return cycle


def run(
    size: str,
    *,
    clients: tuple[int, ...] | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    max_cycles: int | None = None,
) -> dict[str, Any]:
    """Cycles/s and latencies at each concurrency, each on its own fresh database and server
    (``max_cycles`` ends a round early: the smoke test needs a few cycles, not a rate)."""
    clients = clients or (1, 10, 50)
    duration = duration or (20.0 if size == "full" else 5.0)
    warmup = (3.0 if size == "full" else 1.0) if warmup is None else warmup
    rounds: list[dict[str, Any]] = []
    for count in clients:
        with infra.fresh_database() as database:
            catalogue = infra.seed(database, quota_size=None)
            with (
                infra.running_server(database, log_name=f"throughput-{count}") as server,
                infra.watching_workers(server) as usage,
            ):
                result: LoadResult = run_load(
                    server.base_url,
                    clients=count,
                    scenario=checkout_scenario(catalogue),
                    duration=duration,
                    warmup=warmup,
                    max_cycles=max_cycles,
                )
        measured = result.as_dict()
        measured.update(usage.as_dict())
        # The workers' CPU time over every cycle they served (warm-up included, like the CPU time).
        measured["worker_cpu_ms_per_cycle"] = (
            round(usage.cpu_seconds * 1000 / result.all_cycles, 1) if result.all_cycles else None
        )
        rounds.append(measured)
    return {"duration_s": duration, "warmup_s": warmup, "server_workers": 2, "rounds": rounds}
