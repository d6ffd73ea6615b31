"""Benchmark 8: check-in at the door — scans by 20 scanners, and the lists at 100k tickets.

Orders are bulk-loaded (:mod:`bench.bulkload`: about 1.4 tickets an order, 70 % paid, 10 % pending,
10 % canceled), the event is taken out of test mode (as it is on the day), then ``boxoffice serve``
answers ``POST /v1/check-in-lists/{id}/checkins``, each scan a ticket not scanned before — admitted,
or refused as unpaid or canceled as the mix has it — or, one scan in ten, a second scan of a ticket
already in (``already-checked-in``):

* **one scanner** alone, scan after scan: what a scan costs.
* **door runs**: 20 scanners paced as door staff work, at 1 and at 5 scans a second each (each gap
  ±20 % at random, the scanners out of step), for a minute at ``--size full`` after a warm-up (5 s;
  the workers open their database connections for 20 scanners then): latency percentiles and the
  rate achieved. A scanner that falls behind its pace scans at once, so a server that cannot
  keep up shows as an achieved rate below the target.
* **capacity**: 20 scanners firing back to back (no pause): scans a second when the two workers are
  saturated, and the latency a scan has then.

Each run reports the workers' CPU time per scan (``/proc``, every scan the run served). Then:

* **the PDF**: an order of 10 tickets rendered in process (``boxoffice.tickets.pdf``), first and
  following renders (the first loads and subsets the font).
* **lists**: ``GET /v1/events/{id}/check-in-lists`` (three lists; the event's tickets are counted
  once for all), ``GET /v1/check-in-lists/{id}`` and the newest page of
  ``GET /v1/check-in-lists/{id}/checkins``, one after the other, after the scans.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from itertools import count
from typing import Any

import httpx

from bench import bulkload, infra
from bench.load import JSONAPI, LoadResult, Recorder, Scenario, Stop, latency_summary, run_load
from bench.wire import Client

SIZES: dict[str, dict[str, Any]] = {
    "small": {
        "orders": 10_000, "scanners": 20, "scans": 4_000, "single_scans": 300, "list_reads": 30,
        "paced_rates": (1, 5), "paced_seconds": 5, "paced_warmup": 1,
    },
    "full": {
        "orders": 70_000, "scanners": 20, "scans": 20_000, "single_scans": 1_000, "list_reads": 50,
        "paced_rates": (1, 5), "paced_seconds": 60, "paced_warmup": 5,
    },
}  # fmt: skip
SECOND_SCAN_SHARE = 0.1
JITTER = 0.2  # each gap between a paced scanner's scans is its pace's ±20 %


def _create_lists(database: infra.Database, catalogue: infra.Catalogue) -> tuple[int, int, int]:
    """The event out of test mode, a list admitting everything, one admitting only the product the
    orders bought, and a list for the paced door runs (so the first list's figures are the others')."""
    from boxoffice import db
    from boxoffice.catalogue.models import Event
    from boxoffice.catalogue.service import update_event
    from boxoffice.tickets import service as tickets

    with db.unit_of_work(database.url) as session:
        event = session.get(Event, catalogue.event_id)
        assert event is not None
        update_event(session, event, {"test_mode": False, "payment_providers": {"sandbox": {"enabled": False}}})
        everyone = tickets.create_list(session, event, name="Main entrance")
        tickets.create_list(
            session, event, name="Regular only", all_products=False, product_ids=[catalogue.product_ids[0]]
        )
        doors = tickets.create_list(session, event, name="Side doors")
        return everyone.id, doors.id, event.id


def _positions(database: infra.Database) -> list[int]:
    from sqlalchemy import text

    from boxoffice import db

    with db.unit_of_work(database.url) as session:
        return list(session.execute(text("SELECT id FROM order_positions ORDER BY id")).scalars())


def pdf_timings(tickets: int = 10, runs: int = 10) -> dict[str, float]:
    """Milliseconds to render an order of ``tickets`` tickets: the first render, then median and max."""
    from boxoffice.kit.codes import new_ticket_secret
    from boxoffice.tickets.pdf import TicketPage, render_tickets

    pages = [
        TicketPage(
            "Benchmark Conference",
            "2031-05-04 18:00 to 23:00 CEST",
            "Hall 7",
            "Regular",
            f"Attendee {n}",
            "49.00 EUR",
            "ABCDE",
            new_ticket_secret(),
        )
        for n in range(tickets)
    ]
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        render_tickets(pages)
        times.append((time.perf_counter() - start) * 1000)
    rest = sorted(times[1:])
    return {"first_ms": round(times[0], 1), "median_ms": round(rest[len(rest) // 2], 1), "max_ms": round(rest[-1], 1)}


def _measured(result: LoadResult, usage: infra.WorkerUsage, answers: Counter[str]) -> dict[str, Any]:
    """A run's rate and latencies (in its measured window), its answers and the workers' CPU time
    per scan (over every scan it made, warm-up included)."""
    return {
        "scans": result.cycles,
        "seconds": round(result.seconds, 1),
        "scans_per_second": round(result.cycles_per_second, 1),
        "latencies": result.latencies,
        "answers": dict(answers.most_common()),
        "transport_errors": result.errors,
        "worker_cpu_seconds": round(usage.cpu_seconds, 2),
        "worker_cpu_ms_per_scan": round(usage.cpu_seconds * 1000 / result.all_cycles, 2) if result.all_cycles else None,
    }


def run(size: str, **overrides: Any) -> dict[str, Any]:
    params = {**SIZES["full" if size == "full" else "small"], **overrides}
    rng = random.Random(8)
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=None)
        bulkload.load_orders(
            database.libpq,
            event_id=catalogue.event_id,
            product_id=catalogue.product_ids[0],
            quota_id=catalogue.quota_id,
            lo=1,
            hi=params["orders"],
        )
        main_list, door_list, event_id = _create_lists(database, catalogue)
        positions = _positions(database)
        shuffled = rng.sample(positions, len(positions))
        # Disjoint tickets per run: one scanner, capacity, then each paced run (as many as its pace
        # can scan, with room for the jitter).
        single_end = params["single_scans"]
        capacity_end = single_end + params["scans"]
        paced_slices, start = [], capacity_end
        for rate in params["paced_rates"]:
            seconds = params["paced_warmup"] + params["paced_seconds"]
            end = start + math.ceil(params["scanners"] * rate * seconds * (1 + JITTER))
            paced_slices.append(shuffled[start:end])
            start = end
        headers = {"Authorization": f"Bearer {catalogue.token}", "Content-Type": JSONAPI, "Accept": JSONAPI}

        def scanning(list_id: int, tickets: list[int], answers: Counter[str], rate: float | None = None) -> Scenario:
            """Scan each of ``tickets`` once, in turn, mixed with second scans of tickets already in;
            with ``rate``, each scanner (client) at that many scans a second, jittered."""
            scan_url = f"/v1/check-in-lists/{list_id}/checkins"
            taken = count()
            scanned: list[int] = []
            due: dict[int, float] = {}  # a paced scanner's next scan, by client

            async def scanner(client: Client, rec: Recorder) -> None:
                if rate is not None:
                    next_at = due.get(id(client), time.monotonic() + rng.uniform(0, 1 / rate))
                    if next_at >= rec.window_end:
                        raise Stop
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                    due[id(client)] = next_at + rng.uniform(1 - JITTER, 1 + JITTER) / rate
                number = next(taken)
                if number >= len(tickets):
                    raise Stop
                again = scanned and rng.random() < SECOND_SCAN_SHARE
                position = rng.choice(scanned) if again else tickets[number]
                body = {"data": {"type": "checkins", "attributes": {"secret": bulkload.ticket_secret(position)}}}
                start = time.monotonic()
                response = await client.post(scan_url, json=body, headers=headers)
                elapsed = time.monotonic() - start
                code = "ok" if response.status_code == 201 else response.json()["errors"][0]["code"]
                answers[code] += 1
                rec.latencies[f"scan {code}"].append(elapsed)
                rec.latencies["scan (all)"].append(elapsed)
                if code == "ok":
                    scanned.append(position)
                rec.cycle(start)

            return scanner

        def measure(
            server: infra.Server,
            list_id: int,
            tickets: list[int],
            clients: int,
            seconds: float,
            rate: float | None = None,
            warmup: float = 0.0,
        ) -> tuple[LoadResult, dict[str, Any]]:
            answers: Counter[str] = Counter()
            scenario = scanning(list_id, tickets, answers, rate)
            with infra.watching_workers(server) as usage:
                result = run_load(server.base_url, clients=clients, scenario=scenario, duration=seconds, warmup=warmup)
            return result, _measured(result, usage, answers)

        with infra.running_server(database, log_name="checkin") as server:
            alone, one_scanner = measure(server, main_list, shuffled[:single_end], 1, 600)
            scanners = params["scanners"]
            paced = []
            for rate, tickets in zip(params["paced_rates"], paced_slices, strict=True):
                _, door = measure(
                    server, door_list, tickets, scanners, params["paced_seconds"], rate, params["paced_warmup"]
                )
                paced.append({"rate_per_scanner": rate, "target_scans_per_second": scanners * rate, **door})
            saturated, capacity = measure(server, main_list, shuffled[single_end:capacity_end], scanners, 600)
            reads: dict[str, list[float]] = {"event lists": [], "one list": [], "checkins page": []}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
                paths = {
                    "event lists": f"/v1/events/{event_id}/check-in-lists",
                    "one list": f"/v1/check-in-lists/{main_list}",
                    "checkins page": f"/v1/check-in-lists/{main_list}/checkins",
                }
                for _ in range(params["list_reads"]):
                    for name, path in paths.items():
                        start = time.monotonic()
                        response = client.get(path)
                        reads[name].append(time.monotonic() - start)
                        response.raise_for_status()
                figures = client.get(paths["one list"]).json()["data"]["attributes"]
    main_answers = Counter(one_scanner["answers"]) + Counter(capacity["answers"])
    return {
        **params,
        "tickets": len(positions),
        "one_scanner": one_scanner,
        "one_scanner_latencies": alone.latencies,
        "door_runs": paced,
        "capacity": capacity,
        "scans_per_second": round(saturated.cycles_per_second, 1),
        "scan_answers": dict(main_answers.most_common()),
        "scan_latencies": saturated.latencies,
        "transport_errors": saturated.errors,
        "list_latencies": {name: latency_summary(values) for name, values in reads.items()},
        "pdf_10_tickets": pdf_timings(),
        "admitted": figures["checkin-count"],
        "expected": figures["position-count"],
    }
