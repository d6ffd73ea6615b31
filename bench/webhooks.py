"""Benchmark 6: provider callbacks per second — accepted into the inbox, and processed.

Pending orders with a pending sandbox payment each (as a card that asked its holder for
confirmation leaves them) are bulk-loaded; then concurrent clients post one signed
``payment_intent.succeeded`` callback per payment to ``POST /v1/webhooks/sandbox``, the way the
processor would. Accepted: answered 200 and stored. Processed: the event applied (payment
confirmed, order paid) by the background task after the answer.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench import bulkload, infra
from bench.load import Recorder, Scenario, Stop, run_load
from bench.wire import Client

SIZES = {"small": {"events": 300, "clients": 10}, "full": {"events": 3000, "clients": 20}}

# Each pending order of the bulk mix gets a pending sandbox payment P-1 with its audit trail.
_PENDING_PAYMENTS = """
INSERT INTO payments (id, order_id, local_id, provider, amount, state, created_at, provider_reference, info, attempts)
SELECT o.id, o.id, 1, 'sandbox', o.total, 'pending', o.created_at, 'sbx_pi_bench_' || o.id, '{}'::json, 1
FROM orders o WHERE o.status = 'pending';
INSERT INTO audit_entries (id, order_id, actor, action, data, created_at)
SELECT 10 * o.id + k, o.id, 'bench', CASE k WHEN 1 THEN 'payment.created' ELSE 'payment.pending' END,
       json_build_object('payment', o.code || '-P-1'), o.created_at
FROM orders o CROSS JOIN generate_series(1, 2) AS k WHERE o.status = 'pending';
SELECT setval(pg_get_serial_sequence('payments', 'id'), (SELECT max(id) FROM payments));
SELECT setval(pg_get_serial_sequence('audit_entries', 'id'), (SELECT max(id) FROM audit_entries));
"""


def load_pending_payments(database: infra.Database, catalogue: infra.Catalogue, count: int) -> list[dict[str, Any]]:
    """``count`` pending sandbox payments (10 % of the bulk mix is pending, so ten times as many orders), and the
    intent object each one's succeeded callback carries."""
    import psycopg

    bulkload.load_orders(
        database.libpq,
        event_id=catalogue.event_id,
        product_id=catalogue.product_ids[0],
        quota_id=catalogue.quota_id,
        lo=1,
        hi=count * 10,
    )
    with psycopg.connect(database.libpq) as conn:
        conn.execute(_PENDING_PAYMENTS)
        rows = conn.execute(
            "SELECT o.code, p.provider_reference, p.amount FROM payments p JOIN orders o ON o.id = p.order_id "
            "WHERE p.state = 'pending' ORDER BY p.id"
        ).fetchall()
    return [
        {
            "id": reference,
            "object": "payment_intent",
            "amount": int(amount * 100),
            "currency": "eur",
            "status": "succeeded",
            "last_error": None,
            "metadata": {"event": str(catalogue.event_id), "payment": f"{code}-P-1"},
        }
        for code, reference, amount in rows[:count]
    ]


def callback_scenario(database: infra.Database, intents: list[dict[str, Any]]) -> Scenario:
    from boxoffice import db
    from boxoffice.providers.sandbox import processor, signing

    with infra.app_environment(database), db.unit_of_work(database.url) as session:
        key = signing.webhook_key(session)
    pending = iter(intents)

    async def deliver(client: Client, rec: Recorder) -> None:
        intent = next(pending, None)
        if intent is None:
            raise Stop
        created = int(time.time())
        body = processor.event_body("payment_intent.succeeded", intent, created=created)
        headers = {signing.HEADER: signing.sign(key, body, created), "Content-Type": "application/json"}
        response = await rec.request(client, "webhook", "POST", "/v1/webhooks/sandbox", content=body, headers=headers)
        if response.status_code == 200 and json.loads(response.content)["meta"]["received"] == 1:
            rec.cycles += 1  # accepted and stored as a new event

    return deliver


def _count(database: infra.Database, sql: str) -> int:
    import psycopg

    with psycopg.connect(database.libpq) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _states(database: infra.Database) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database.libpq) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM provider_events GROUP BY state").fetchall())


def run(size: str, **overrides: int) -> dict[str, Any]:
    params = {**SIZES["full" if size == "full" else "small"], **overrides}
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=None)
        intents = load_pending_payments(database, catalogue, params["events"])
        with infra.running_server(database, log_name="webhooks") as server:
            start = time.monotonic()
            result = run_load(
                server.base_url, clients=params["clients"], scenario=callback_scenario(database, intents), duration=600
            )
            accepted_at = time.monotonic()
            states = _states(database)
            while states.get("received", 0) and time.monotonic() - accepted_at < 120:
                time.sleep(0.05)
                states = _states(database)
            processed_at = time.monotonic()
        confirmed = _count(
            database,
            "SELECT count(*) FROM payments WHERE state = 'confirmed' AND provider_reference LIKE 'sbx_pi_bench_%'",
        )
        paid = _count(
            database,
            "SELECT count(*) FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.status = 'paid' AND p.provider_reference LIKE 'sbx_pi_bench_%'",
        )
    accepted = result.cycles
    return {
        **params,
        "accepted": accepted,
        "accepted_per_second": round(accepted / (accepted_at - start), 1),
        "processed": states.get("processed", 0),
        "processed_per_second": round(states.get("processed", 0) / (processed_at - start), 1),
        "event_states": states,
        "payments_confirmed": confirmed,
        "orders_paid": paid,
        "latencies": result.latencies,
        "errors": result.errors,
    }
