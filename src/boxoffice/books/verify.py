"""``boxoffice books verify``: recheck the books from first principles and report every drift.

:func:`verify` runs every check of :mod:`boxoffice.books.checks` over the whole database, one
organizer or one event, and returns a :class:`Report` grouped by check — readable as text for the
command line and as plain data for the organizers' API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.books import checks
from boxoffice.books.checks import Drift, Scope, Tally

__all__ = ["CHECKS", "CheckResult", "Drift", "Report", "Scope", "verify"]

Check = Callable[[Session, Scope, Tally], Iterator[Drift]]

# name -> (what it proves, the check); run in this order.
CHECKS: dict[str, tuple[str, Check]] = {
    "balances": ("every order's stored balance equals the sum of its payments and refunds", checks.balances),
    "totals": ("every order's total equals its positions plus its fees", checks.totals),
    "position-prices": ("every paid order's positions are priced as its audit log says", checks.position_prices),
    "quotas": (
        "every quota's used seats equal the seats its pending and paid orders hold, within its size",
        checks.quotas,
    ),
    "refund-limits": ("no payment is refunded for more than its amount", checks.refund_limits),
    "refunded-payments": (
        "a payment is refunded exactly when done refunds give all of it back",
        checks.refunded_payments,
    ),
    "audit-trail": ("every order, payment and refund has the audit entries of its state", checks.audit_trail),
    "export-totals": ("per event and currency, the exports add up to the database's sums", checks.export_totals),
}


@dataclass
class CheckResult:
    name: str
    description: str
    checked: int
    drifts: list[Drift] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts


@dataclass
class Report:
    """The outcome of every check, in the order they ran."""

    scope: Scope
    checks: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def drifts(self) -> list[Drift]:
        return [d for c in self.checks for d in c.drifts]

    def lines(self, *, limit: int = 50) -> Iterator[str]:
        """The report as text, grouped by check; at most ``limit`` drifts shown per check."""
        failed = sum(not c.ok for c in self.checks)
        if failed:
            yield f"Books do NOT balance: {len(self.drifts)} difference(s) in {failed} of {len(self.checks)} checks."
        else:
            yield f"Books balance: all {len(self.checks)} checks passed."
        for check in self.checks:
            mark = "ok   " if check.ok else "DRIFT"
            yield f"[{mark}] {check.name}: {check.description} ({check.checked} checked)"
            for drift in check.drifts[:limit]:
                yield f"    - {drift}"
            if len(check.drifts) > limit:
                yield f"    … and {len(check.drifts) - limit} more"

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API: ``ok`` and, per check, what it proves, how much it saw, what drifted."""
        return {
            "ok": self.ok,
            "checks": [
                {
                    "name": c.name,
                    "description": c.description,
                    "ok": c.ok,
                    "checked": c.checked,
                    "drifts": [
                        {"subject": d.subject, "field": d.field, "stored": d.stored, "expected": d.expected}
                        for d in c.drifts
                    ],
                }
                for c in self.checks
            ],
        }


def verify(session: Session, *, organizer_id: int | None = None, event_id: int | None = None) -> Report:
    """Run every check over the books (or one organizer's, or one event's); reads only."""
    scope = Scope(organizer_id=organizer_id, event_id=event_id)
    results = []
    for name, (description, check) in CHECKS.items():
        tally = Tally()
        drifts = list(check(session, scope, tally))
        results.append(CheckResult(name, description, tally.checked, drifts))
    return Report(scope, results)
