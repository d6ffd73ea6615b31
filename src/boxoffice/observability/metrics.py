"""``GET /metrics`` in Prometheus text format.

HTTP counts and latencies are counted in each process (with ``serve --workers N`` in
prometheus-client's multiprocess mode, so a scrape sees every worker). Business figures — orders
placed, payments confirmed, the job queue — are read from the database at scrape time: they are
then right however many ``serve`` and ``worker`` processes on however many machines did the work.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from boxoffice import db
from boxoffice.config import get_settings
from boxoffice.orders.models import Order
from boxoffice.outbox.models import OutboxJob
from boxoffice.payments.models import Payment

HTTP_REQUESTS = Counter(
    "boxoffice_http_requests", "HTTP requests answered, by route template and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "boxoffice_http_request_duration_seconds", "Time to answer an HTTP request, by route template.", ["method", "route"]
)

# Payment states in which the money was received at some point (a refunded payment was confirmed first).
RECEIVED_STATES = ("confirmed", "refunded")


class BooksCollector(Collector):
    """Orders placed, payments confirmed and jobs waiting, counted in the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        orders = CounterMetricFamily("boxoffice_orders_placed", "Orders placed.")
        payments = CounterMetricFamily(
            "boxoffice_payments_confirmed", "Payments confirmed (including those refunded since).", labels=["provider"]
        )
        jobs = GaugeMetricFamily("boxoffice_job_queue_depth", "Background jobs waiting to run, by task.", labels=["task"])
        with db.unit_of_work() as session:
            orders.add_metric([], session.scalar(select(func.count()).select_from(Order)) or 0)
            received = select(Payment.provider, func.count()).where(Payment.state.in_(RECEIVED_STATES))
            for provider, count in session.execute(received.group_by(Payment.provider)):
                payments.add_metric([provider], count)
            waiting = select(OutboxJob.task, func.count()).where(OutboxJob.state == "queued")
            for task, count in session.execute(waiting.group_by(OutboxJob.task)):
                jobs.add_metric([task], count)
        yield from (orders, payments, jobs)


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: this process's (or all workers') HTTP metrics, then the database's figures."""
    if get_settings().metrics_dir:
        http_registry = CollectorRegistry()
        MultiProcessCollector(http_registry, path=get_settings().metrics_dir)
    else:
        http_registry = REGISTRY
    books_registry = CollectorRegistry()
    books_registry.register(BooksCollector())
    body = generate_latest(http_registry) + generate_latest(books_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
