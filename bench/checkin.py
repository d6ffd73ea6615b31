"""Benchmark 8: check-in at the door — scans at 20 concurrent scanners, and the lists at 100k tickets.

Orders are bulk-loaded (:mod:`bench.bulkload`: about 1.4 tickets an order, 70 % paid, 10 % pending,
10 % canceled), then ``boxoffice serve`` answers:

* **scans**: first one scanner alone (what a scan costs), then 20 scanners (one connection each, one scan after the other, as door staff work)
  ``POST /v1/check-in-lists/{id}/checkins`` the tickets in a shuffled order, each ticket once —
  admitted, or refused as unpaid or canceled as the mix has it — plus a share of second scans of
  tickets already in (``already-checked-in``). Latency percentiles per answer.
* **the PDF**: an order of 10 tickets rendered in process (``boxoffice.tickets.pdf``), first and
  following renders (the first loads and subsets the font).
* **lists**: ``GET /v1/events/{id}/check-in-lists`` (two lists, each counting admitted and expected
  tickets over all positions), ``GET /v1/check-in-lists/{id}`` and the newest page of
  ``GET /v1/check-in-lists/{id}/checkins``, one after the other, after the scans.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from itertools import count
from typing import Any

import httpx

from bench import bulkload, infra
from bench.load import JSONAPI, Recorder, Scenario, Stop, latency_summary, run_load

SIZES = {
    "small": {"orders": 10_000, "scanners": 20, "scans": 4_000, "single_scans": 300, "list_reads": 30},
    "full": {"orders": 70_000, "scanners": 20, "scans": 20_000, "single_scans": 1_000, "list_reads": 50},
}
SECOND_SCAN_SHARE = 0.1


def _create_lists(database: infra.Database, catalogue: infra.Catalogue) -> tuple[int, int]:
    """A list admitting everything and one admitting only the product the orders bought."""
    from boxoffice import db
    from boxoffice.catalogue.models import Event
    from boxoffice.tickets import service as tickets

    with db.unit_of_work(database.url) as session:
        event = session.get(Event, catalogue.event_id)
        assert event is not None
        everyone = tickets.create_list(session, event, name="Main entrance")
        some = tickets.create_list(
            session, event, name="Regular only", all_products=False, product_ids=[catalogue.product_ids[0]]
        )
        return everyone.id, some.id


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


def run(size: str, **overrides: int) -> dict[str, Any]:
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
        main_list, _ = _create_lists(database, catalogue)
        positions = _positions(database)
        shuffled = rng.sample(positions, min(params["scans"] + params["single_scans"], len(positions)))
        headers = {"Authorization": f"Bearer {catalogue.token}", "Content-Type": JSONAPI, "Accept": JSONAPI}
        scan_url = f"/v1/check-in-lists/{main_list}/checkins"
        scanned: list[int] = []
        answers: Counter[str] = Counter()

        def scanning(tickets: list[int]) -> Scenario:
            """Scan each of ``tickets`` once, in turn, mixed with second scans of tickets already in."""
            taken = count()

            async def scanner(client: httpx.AsyncClient, rec: Recorder) -> None:
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

        with infra.running_server(database, log_name="checkin") as server:
            alone = run_load(
                server.base_url, clients=1, scenario=scanning(shuffled[: params["single_scans"]]), duration=600
            )
            scans = run_load(
                server.base_url,
                clients=params["scanners"],
                scenario=scanning(shuffled[params["single_scans"] :]),
                duration=600,
            )
            reads: dict[str, list[float]] = {"event lists": [], "one list": [], "checkins page": []}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
                paths = {
                    "event lists": f"/v1/events/{catalogue.event_id}/check-in-lists",
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
    return {
        **params,
        "tickets": len(positions),
        "one_scanner_latencies": alone.latencies,
        "scans_per_second": round(scans.cycles_per_second, 1),
        "scan_answers": dict(answers.most_common()),
        "scan_latencies": scans.latencies,
        "transport_errors": scans.errors,
        "list_latencies": {name: latency_summary(values) for name, values in reads.items()},
        "pdf_10_tickets": pdf_timings(),
        "admitted": figures["checkin-count"],
        "expected": figures["position-count"],
    }
