"""Bulk-load orders with payments, refunds and audit entries by ``INSERT … SELECT generate_series``.

The rows are what the service layer would have written, so ``boxoffice books verify`` passes on
them: each order's stored balance follows :func:`boxoffice.payments.rules.balance`, payments are
``refunded`` exactly when done refunds give them back, every order, payment and refund has the audit
entries of its birth and of its state, and the quota's ``used`` equals the seats held.

Order number ``i`` falls in one of twenty slots (``i % 20``), giving this mix (orders placed at
pseudo-random times over the last 60 days, so every size has recent sales):

====== ===== ================================================================ =================
slots  share  order                                                            payment-state
====== ===== ================================================================ =================
0-13   70 %  paid by one confirmed sandbox payment                             paid
14-15  10 %  pending, nothing paid yet                                         unpaid
16      5 %  paid, plus a second (manual) payment of 10.00 too many            overpaid
17-18  10 %  canceled, its payment refunded in full (refund done)              paid
19      5 %  paid; 10.00 went back outside boxoffice, waiting for the          paid
              organizer's decision (an open ``external`` refund)
====== ===== ================================================================ =================

Ids are derived from ``i`` (order ``i``, its payment ``i``, positions ``2i-1`` and ``2i``…), so the
sizes load one after the other (10k, then up to 100k, then up to 1M) into the same database. A
position's ticket secret is :func:`ticket_secret` of its id, so the check-in benchmark can scan it.
"""

from __future__ import annotations

import hashlib
from typing import Any

# Order codes use the alphabet of boxoffice.kit.codes: five base-32 digits of a bijection of i
# (an odd multiplier modulo 32**5), so codes look random yet never collide below 33 million orders.
_CODE = " || ".join(f"substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', ((p >> {5 * k}) & 31)::int + 1, 1)" for k in range(5))
# Ids of the second payment of an overpaid order and of audit entries stay clear of the others.
SECOND_PAYMENT = 100_000_000
AUDIT_SLOTS = 10

_ORDERS = f"""
WITH s AS (
    SELECT i, i %% 20 AS slot, 49.00 * (1 + (i / 7) %% 2) AS t,
           now() - ((i::bigint * 2654435761) %% 5184000) * interval '1 second' AS created,
           (i::bigint * 1103515245 + 12345) %% 33554432 AS p
    FROM generate_series(%(lo)s::int, %(hi)s::int) AS i
)
INSERT INTO orders (id, event_id, code, secret, email, status, total, payment_mode, expires_at, created_at,
                    paid_at, canceled_at, holds_quota, locale, payment_total, refund_total, pending_sum,
                    payment_state, has_open_refund)
SELECT i, %(event)s, {_CODE}, md5(i::text), 'buyer' || i || '@bench.example',
       CASE WHEN slot IN (14, 15) THEN 'pending' WHEN slot IN (17, 18) THEN 'canceled' ELSE 'paid' END,
       CASE WHEN slot IN (17, 18) THEN 0 ELSE t END,
       'sandbox',
       CASE WHEN slot IN (14, 15) THEN now() + interval '14 days' ELSE created + interval '14 days' END,
       created,
       CASE WHEN slot IN (14, 15) THEN NULL ELSE created + interval '1 minute' END,
       CASE WHEN slot IN (17, 18) THEN created + interval '2 days' END,
       slot NOT IN (17, 18), 'en',
       CASE WHEN slot IN (14, 15) THEN 0 WHEN slot = 16 THEN t + 10 ELSE t END,
       CASE WHEN slot IN (17, 18) THEN t ELSE 0 END,
       CASE WHEN slot IN (14, 15) THEN t WHEN slot = 16 THEN -10 ELSE 0 END,
       CASE WHEN slot IN (14, 15) THEN 'unpaid' WHEN slot = 16 THEN 'overpaid' ELSE 'paid' END,
       slot = 19
FROM s
"""

_POSITIONS = """
INSERT INTO order_positions (id, order_id, product_id, price, canceled, secret)
SELECT 2 * o.id - 1 + k, o.id, %(product)s, 49.00, o.status = 'canceled', md5('ticket' || (2 * o.id - 1 + k))
FROM orders o CROSS JOIN generate_series(0, 1) AS k
WHERE o.id BETWEEN %(lo)s AND %(hi)s AND k < 1 + (o.id / 7) %% 2
"""

_PAYMENTS = f"""
INSERT INTO payments (id, order_id, local_id, provider, amount, state, created_at, payment_date, info, attempts)
SELECT o.id, o.id, 1, 'sandbox', 49.00 * (1 + (o.id / 7) %% 2),
       CASE WHEN o.status = 'canceled' THEN 'refunded' ELSE 'confirmed' END,
       o.paid_at, o.paid_at, '{{}}'::json, 1
FROM orders o WHERE o.id BETWEEN %(lo)s AND %(hi)s AND o.status <> 'pending'
UNION ALL
SELECT {SECOND_PAYMENT} + o.id, o.id, 2, 'manual', 10.00, 'confirmed', o.paid_at, o.paid_at, '{{}}'::json, 0
FROM orders o WHERE o.id BETWEEN %(lo)s AND %(hi)s AND o.payment_state = 'overpaid'
"""

_REFUNDS = """
INSERT INTO refunds (id, order_id, payment_id, local_id, provider, amount, state, source, created_at,
                     execution_date, info, attempts)
SELECT o.id, o.id, o.id, 1, 'sandbox',
       CASE WHEN o.status = 'canceled' THEN o.refund_total ELSE 10.00 END,
       CASE WHEN o.status = 'canceled' THEN 'done' ELSE 'external' END,
       CASE WHEN o.status = 'canceled' THEN 'admin' ELSE 'external' END, o.paid_at + interval '1 day',
       CASE WHEN o.status = 'canceled' THEN o.canceled_at END, '{}'::json, 0
FROM orders o WHERE o.id BETWEEN %(lo)s AND %(hi)s AND (o.status = 'canceled' OR o.has_open_refund)
"""

# (slot, action, which orders, what the entry names): the trail books verify asks for.
_AUDIT = [
    (
        0,
        "order.placed",
        "true",
        "json_build_object('total', 49.00 * (1 + (o.id / 7) %% 2), 'positions', json_build_array("
        "json_build_object('product', %(product)s::int, 'quantity', 1 + (o.id / 7) %% 2)))",
    ),
    (1, "payment.created", "o.status <> 'pending'", "json_build_object('payment', o.code || '-P-1')"),
    (2, "payment.confirmed", "o.status <> 'pending'", "json_build_object('payment', o.code || '-P-1')"),
    (3, "order.paid", "o.status <> 'pending'", "'{}'::json"),
    (4, "payment.created", "o.payment_state = 'overpaid'", "json_build_object('payment', o.code || '-P-2')"),
    (5, "payment.confirmed", "o.payment_state = 'overpaid'", "json_build_object('payment', o.code || '-P-2')"),
    (6, "refund.created", "o.status = 'canceled'", "json_build_object('refund', o.code || '-R-1')"),
    (6, "refund.external", "o.has_open_refund", "json_build_object('refund', o.code || '-R-1')"),
    (7, "refund.done", "o.status = 'canceled'", "json_build_object('refund', o.code || '-R-1')"),
    (8, "payment.refunded", "o.status = 'canceled'", "json_build_object('payment', o.code || '-P-1')"),
    (9, "order.canceled", "o.status = 'canceled'", "'{}'::json"),
]
_AUDIT_SQL = "\nUNION ALL\n".join(
    f"SELECT {AUDIT_SLOTS} * o.id + {slot}, o.id, 'bench', '{action}', {data}, o.created_at + interval '{slot} minutes' "
    f"FROM orders o WHERE o.id BETWEEN %(lo)s AND %(hi)s AND ({where})"
    for slot, action, where, data in _AUDIT
)
_AUDIT_INSERT = f"INSERT INTO audit_entries (id, order_id, actor, action, data, created_at)\n{_AUDIT_SQL}"

_QUOTA = """
UPDATE quotas SET used = (
    SELECT count(*) FROM order_positions op JOIN orders o ON o.id = op.order_id
    WHERE op.product_id = %(product)s AND o.holds_quota AND NOT op.canceled
) WHERE id = %(quota)s
"""

_SEQUENCES = ("orders", "order_positions", "payments", "refunds", "audit_entries")


def ticket_secret(position_id: int) -> str:
    """The secret a bulk-loaded position carries (predictable: for benchmarks only)."""
    return hashlib.md5(f"ticket{position_id}".encode()).hexdigest()


def load_orders(libpq_url: str, *, event_id: int, product_id: int, quota_id: int, lo: int, hi: int) -> None:
    """Insert orders ``lo``..``hi`` (inclusive) of the mix above, in one transaction, then VACUUM ANALYZE."""
    import psycopg

    params: dict[str, Any] = {"lo": lo, "hi": hi, "event": event_id, "product": product_id, "quota": quota_id}
    with psycopg.connect(libpq_url) as conn:
        for statement in (_ORDERS, _POSITIONS, _PAYMENTS, _REFUNDS, _AUDIT_INSERT, _QUOTA):
            conn.execute(statement, params)
        for table in _SEQUENCES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.commit()
    # Autovacuum would get there too; done at once, index-only scans see the rows as visible.
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
