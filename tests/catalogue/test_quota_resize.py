"""Resizing a quota never leaves it holding more seats than its size, even while tickets sell."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest

from boxoffice.catalogue.models import Quota
from boxoffice.catalogue.service import resize_quota
from boxoffice.errors import Conflict, InvalidValue, QuotaExceeded
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from components import postgres_url
from conftest import make_shop


def _sell(uow: Any, event_id: int, product_id: int, seats: int, n: int = 0) -> None:
    with uow() as s:
        orders.place_order(s, event_id, email=f"b{n}@example.org", items=[LineItem(product_id, seats)], actor="buyer")


def test_a_quota_grows_shrinks_to_what_is_held_and_becomes_unlimited(uow, shop) -> None:  # type: ignore[no-untyped-def]
    _sell(uow, shop.event_id, shop.regular_id, 4)
    with uow() as s:
        quota = s.get(Quota, shop.quota_id)
        assert resize_quota(s, quota, 4).size == 4
        assert resize_quota(s, quota, None).size is None
        assert resize_quota(s, quota, 10).available == 6


def test_a_size_below_the_seats_held_is_409_at_the_size_and_changes_nothing(uow, shop) -> None:  # type: ignore[no-untyped-def]
    _sell(uow, shop.event_id, shop.regular_id, 4)
    with uow() as s, pytest.raises(Conflict) as refused:
        resize_quota(s, s.get(Quota, shop.quota_id), 3)
    assert (refused.value.code, refused.value.pointer) == ("quota-in-use", "/data/attributes/size")
    with uow() as s, pytest.raises(InvalidValue):
        resize_quota(s, s.get(Quota, shop.quota_id), -1)
    with uow() as s:
        assert s.get(Quota, shop.quota_id).size == 100


@pytest.mark.postgres  # SQLite lets one writer in at a time: the sale could not happen in between
def test_a_resize_counts_the_seats_sold_after_the_quota_was_read(uow, shop) -> None:  # type: ignore[no-untyped-def]
    postgres_url()
    with uow() as s:
        quota = s.get(Quota, shop.quota_id)
        assert quota.used == 0
        # Another request sells seats after this one read the quota, before it resizes.
        _sell(uow, shop.event_id, shop.regular_id, 5)
        with pytest.raises(Conflict):
            resize_quota(s, quota, 3)
        assert quota.used == 5
    with uow() as s:
        assert s.get(Quota, shop.quota_id).size == 100


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres-concurrency")
def test_a_resize_among_40_concurrent_two_seat_orders_never_oversells(uow, database_url) -> None:  # type: ignore[no-untyped-def]
    postgres_url()
    with uow() as s:
        shop = make_shop(s, size=100)
    barrier = Barrier(41)

    def buy(n: int) -> str:
        barrier.wait()
        try:
            _sell(uow, shop.event_id, shop.regular_id, 2, n)
        except QuotaExceeded:
            return "sold-out"
        return "sold"

    def resize() -> str:
        barrier.wait()
        try:
            with uow() as s:
                resize_quota(s, s.get(Quota, shop.quota_id), 21)
        except Conflict:
            return "refused"
        return "resized"

    with ThreadPoolExecutor(max_workers=41) as pool:
        futures = [pool.submit(buy, n) for n in range(40)]
        resized = pool.submit(resize)
        sales = Counter(f.result() for f in futures)
    with uow() as s:
        quota = s.get(Quota, shop.quota_id)
        assert quota.used == 2 * sales["sold"]
        if resized.result() == "resized":
            assert quota.size == 21 and quota.used <= 21
        else:
            assert quota.size == 100 and sales == {"sold": 40}
