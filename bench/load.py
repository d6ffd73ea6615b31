"""The load generator: concurrent asyncio clients, one HTTP connection each, and what they measured.

A scenario is an async function run by every client over and over (or until a shared supply runs
out); it times its requests with :meth:`Recorder.request` and reports finished cycles with
:meth:`Recorder.cycle`. Only what starts after the warm-up and ends before the deadline counts, so
connection set-up and the server's first requests stay out of the numbers.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.wire import Answer, Client, TransportError

JSONAPI = "application/vnd.api+json"


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def latency_summary(values: list[float]) -> dict[str, float | int]:
    """Count and p50/p95/p99/max of latencies given in seconds, reported in milliseconds."""
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2) if values else math.nan,
    }


class Stop(Exception):
    """A scenario raises this when there is nothing left to do (the buyers ran out)."""


@dataclass
class Recorder:
    """Latencies per request kind, finished cycles, and errors by kind, inside the measured window."""

    window_start: float = 0.0
    window_end: float = math.inf
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    cycles: int = 0
    # Every finished cycle, warm-up included (to divide the server's CPU time by).
    all_cycles: int = 0

    def counts(self, start: float, end: float) -> bool:
        return self.window_start <= start and end <= self.window_end

    async def request(self, client: Client, kind: str, method: str, url: str, **kwargs: Any) -> Answer:
        """Send one request and time it as ``kind``; a non-2xx answer is counted as an error of its kind."""
        start = time.monotonic()
        response = await client.request(method, url, **kwargs)
        end = time.monotonic()
        if self.counts(start, end):
            self.latencies[kind].append(end - start)
            if response.status_code >= 300:
                self.errors[f"{kind} {response.status_code} {error_code(response)}"] += 1
        return response

    def cycle(self, start: float) -> None:
        self.all_cycles += 1
        if self.counts(start, time.monotonic()):
            self.cycles += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1


def error_code(response: Answer) -> str:
    """The first JSON:API error's ``code`` (or ``-``)."""
    try:
        errors = response.json().get("errors") or [{}]
        return str(errors[0].get("code") or "-")
    except ValueError:
        return "-"


Scenario = Callable[[Client, Recorder], Awaitable[None]]


@dataclass(frozen=True)
class LoadResult:
    clients: int
    seconds: float
    cycles: int
    latencies: dict[str, dict[str, float | int]]
    errors: dict[str, int]
    all_cycles: int = 0

    @property
    def cycles_per_second(self) -> float:
        return self.cycles / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 3),
            "cycles": self.cycles,
            "cycles_per_second": round(self.cycles_per_second, 1),
            "latencies": self.latencies,
            "errors": self.errors,
        }


async def _client_loop(
    base_url: str, scenario: Scenario, recorder: Recorder, deadline: float, max_cycles: int | None
) -> None:
    async with Client(base_url, timeout=60) as client:
        while time.monotonic() < deadline and (max_cycles is None or recorder.cycles < max_cycles):
            try:
                await scenario(client, recorder)
            except Stop:
                return
            except TransportError as exc:
                recorder.error(f"transport {type(exc).__name__}")


async def _run(
    base_url: str, clients: int, scenario: Scenario, duration: float, warmup: float, max_cycles: int | None
) -> LoadResult:
    start = time.monotonic()
    recorder = Recorder(window_start=start + warmup, window_end=start + warmup + duration)
    tasks = [_client_loop(base_url, scenario, recorder, recorder.window_end, max_cycles) for _ in range(clients)]
    await asyncio.gather(*tasks)
    # A run that stopped early (nothing left to buy) is measured up to its last answer.
    finished = min(time.monotonic(), recorder.window_end)
    seconds = max(finished - recorder.window_start, 0.0)
    return LoadResult(
        clients,
        seconds,
        recorder.cycles,
        {kind: latency_summary(values) for kind, values in sorted(recorder.latencies.items())},
        dict(recorder.errors.most_common()),
        recorder.all_cycles,
    )


def run_load(
    base_url: str,
    *,
    clients: int,
    scenario: Scenario,
    duration: float,
    warmup: float = 0.0,
    max_cycles: int | None = None,
) -> LoadResult:
    """Run ``clients`` concurrent clients of ``scenario`` for ``warmup`` + ``duration`` seconds (or
    until the scenario raises :class:`Stop` in every client, or ``max_cycles`` cycles counted) and
    summarize the measured window."""
    return asyncio.run(_run(base_url, clients, scenario, duration, warmup, max_cycles))


def order_document(
    event_id: int, positions: list[tuple[int, int]], email: str, mode: str = "sandbox"
) -> dict[str, Any]:
    """A ``POST /v1/orders`` body: ``positions`` as (product id, quantity)."""
    return {
        "data": {
            "type": "orders",
            "attributes": {
                "email": email,
                "payment-mode": mode,
                "positions": [{"product": str(p), "quantity": q} for p, q in positions],
            },
            "relationships": {"event": {"data": {"type": "events", "id": str(event_id)}}},
        }
    }


CHARGE_DOCUMENT = {"data": {"type": "charge", "attributes": {"sandbox": "4242424242424242"}}}
