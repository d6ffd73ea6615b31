"""Two doors scanning one ticket at the same moment, on real PostgreSQL with real threads."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select

from boxoffice.catalogue.models import Event
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.tickets import service as tickets
from boxoffice.tickets.models import Checkin
from conftest import make_shop

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres-concurrency")]


@pytest.mark.parametrize("doors", [2, 10])
def test_doors_scanning_one_ticket_at_the_same_moment_admit_it_once(pg, uow, doors: int) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        )
        orders.mark_paid(s, order.id, actor="user:admin@acme.example")
        secret = order.positions[0].secret
        event = s.get(Event, shop.event_id)
        list_id = tickets.create_list(s, event, name="Doors").id
    # A door that cannot start (no connection left on a shared server) breaks the barrier: fail, not hang.
    barrier = Barrier(doors, timeout=60)

    def scan(door: int) -> str:
        with uow() as s:
            # Every door reads the ticket as not yet admitted; then all insert at once.
            found = tickets.open_door(s, list_id, secret)
            assert found is not None and found.ticket is not None and found.ticket.first_admitted_at is None
            barrier.wait()
            result = tickets.scan(s, found, actor=f"user:door{door}@acme.example")
            return result.checkin.result

    with ThreadPoolExecutor(max_workers=doors) as pool:
        outcomes = Counter(pool.map(scan, range(doors)))
    assert outcomes == {"ok": 1, "already-checked-in": doors - 1}
    with uow() as s:
        rows = s.execute(
            select(Checkin.result, func.count()).where(Checkin.check_in_list_id == list_id).group_by(Checkin.result)
        )
        recorded = {result: count for result, count in rows}
        assert recorded == {"ok": 1, "already-checked-in": doors - 1}, "every scan is recorded, one admitted"
