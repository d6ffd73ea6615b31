"""The SQL one order + payment cycle issues, transaction by transaction.

Runs one cycle in process (the app ``boxoffice serve`` runs, through Starlette's test client, with its
embedded job runner) on a benchmark database, and records every statement the engine sends with
SQLAlchemy's cursor events, grouped into the transactions they ran in. This is what the pgbench
script (``bench/pgbench_cycle.sql``) mirrors, and what the docs count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench import infra
from bench.load import CHARGE_DOCUMENT, JSONAPI, order_document


@dataclass
class Transaction:
    """The statements of one transaction and the thread that ran it (request or job thread)."""

    thread: str
    statements: list[str] = field(default_factory=list)
    parameters: list[Any] = field(default_factory=list)
    outcome: str = "open"


@dataclass
class Capture:
    transactions: list[Transaction] = field(default_factory=list)
    _open: dict[int, Transaction] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def statement(self, conn: Any, sql: str, parameters: Any = None) -> None:
        with self._lock:
            current = self._open.get(id(conn))
            if current is None:
                current = self._open[id(conn)] = Transaction(threading.current_thread().name)
                self.transactions.append(current)
            current.statements.append(" ".join(sql.split()))
            current.parameters.append(parameters)

    def end(self, conn: Any, outcome: str) -> None:
        with self._lock:
            current = self._open.pop(id(conn), None)
            if current is not None:
                current.outcome = outcome

    @property
    def statement_count(self) -> int:
        return sum(len(t.statements) for t in self.transactions)

    def as_text(self) -> str:
        lines: list[str] = []
        for number, tx in enumerate(self.transactions, 1):
            lines.append(f"-- transaction {number} ({tx.thread}, {tx.outcome}, {len(tx.statements)} statements)")
            lines.extend(f"{sql};" for sql in tx.statements)
        return "\n".join(lines) + "\n"


@contextmanager
def capturing(url: str) -> Iterator[Capture]:
    """Record every statement sent on the engine of ``url`` while inside."""
    from boxoffice.db import get_engine

    engine = get_engine(url)
    capture = Capture()

    def before(conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        capture.statement(conn, sql, parameters)

    def commit(conn: Any) -> None:
        capture.end(conn, "commit")

    def rollback(conn: Any) -> None:
        capture.end(conn, "rollback")

    listeners = (("before_cursor_execute", before), ("commit", commit), ("rollback", rollback))
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        yield capture
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)


def capture_cycle(database: infra.Database, catalogue: infra.Catalogue, *, settle: float = 3.0) -> Capture:
    """One checkout cycle in process: place an order with two tickets, charge it; then wait ``settle``
    seconds for the jobs it queued (mails) to run, so their statements are counted too."""
    from fastapi.testclient import TestClient

    from boxoffice.app import serve_app

    headers = {"Content-Type": JSONAPI}
    with infra.app_environment(database), TestClient(serve_app()) as client:
        # A first cycle outside the capture: caches (secret key, providers) fill as in a warm server.
        for capture_this in (False, True):
            body = order_document(catalogue.event_id, [(catalogue.product_ids[0], 2)], "buyer@bench.example")
            with capturing(database.url) as capture:
                placed = client.post("/v1/orders", json=body, headers=headers)
                placed.raise_for_status()
                token, order_id = placed.json()["meta"]["access-token"], placed.json()["data"]["id"]
                charged = client.post(
                    f"/v1/orders/{order_id}/charge",
                    json=CHARGE_DOCUMENT,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                )
                charged.raise_for_status()
                time.sleep(settle)
            if capture_this:
                return capture
    raise AssertionError("unreachable")


def run(size: str) -> dict[str, Any]:
    """Capture one cycle's SQL on a fresh database; the statement log goes to ``results/cycle-sql.txt``."""
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=None)
        capture = capture_cycle(database, catalogue)
    infra.RESULTS.mkdir(parents=True, exist_ok=True)
    (infra.RESULTS / "cycle-sql.txt").write_text(capture.as_text())
    return {
        "transactions": len(capture.transactions),
        "statements": capture.statement_count,
        "per_transaction": [
            {"thread": t.thread, "outcome": t.outcome, "statements": len(t.statements)} for t in capture.transactions
        ],
    }
