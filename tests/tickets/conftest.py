"""Fixtures of the tickets tests: the API's two-organizer world, and paying its orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api.conftest import Api, World, api, app, make_world, world  # noqa: F401  (fixtures shared with the API tests)
from background import pg, run_jobs, smtp  # noqa: F401  (fixtures of the mail and concurrency tests)
from boxoffice.orders import service as orders
from web.conftest import load_order, pages, web_shop  # noqa: F401  (fixtures of the page tests)

__all__ = ["Api", "World"]


@pytest.fixture
def mark_paid(uow: Any) -> Callable[[int], None]:
    """Pay an order in full, as the organizer recording a manual payment does."""

    def pay(order_id: int) -> None:
        with uow() as s:
            orders.mark_paid(s, order_id, actor="user:admin@acme-x.example")

    return pay
