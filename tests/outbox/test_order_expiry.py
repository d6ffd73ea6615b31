"""Order expiry in the background: due orders expire once, buyers are reminded once, late payments follow
the event's policy."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from threading import Barrier

import pytest
from sqlalchemy import func, select

from boxoffice.accounts.service import create_user
from boxoffice.catalogue.models import Event, Quota
from boxoffice.kit.clock import now
from boxoffice.mail.models import Mail
from boxoffice.orders import service as orders
from boxoffice.orders.expiry import expire_due_orders, queue_expiry_reminders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.outbox import schedule
from boxoffice.payments import service as payments
from boxoffice.payments.models import Refund
from boxoffice.payments.rules import ConfirmOutcome
from conftest import make_shop

D = Decimal
DAY = 24 * 3600


def _place(uow, shop, email: str = "b@example.org", quantity: int = 1) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email=email, items=[LineItem(shop.regular_id, quantity)], actor="buyer"
        ).id


def _settings(uow, shop, **settings: object) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        event = s.get(Event, shop.event_id)
        event.settings = {**event.settings, **settings}


def _used(uow, shop) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return s.get(Quota, shop.quota_id).used


def test_due_orders_expire_and_give_their_seats_back(uow, shop, travel) -> None:  # type: ignore[no-untyped-def]
    old = _place(uow, shop, quantity=2)
    travel(2 * DAY)
    young = _place(uow, shop)
    assert _used(uow, shop) == 3
    travel(DAY + 60)
    assert expire_due_orders() == 1
    assert expire_due_orders() == 0
    with uow() as s:
        assert s.get(Order, old).status == "expired" and s.get(Order, young).status == "pending"
    assert _used(uow, shop) == 1


def test_the_scheduled_job_expires_due_orders(uow, shop, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    travel(3 * DAY + 60)
    assert "orders.expire-due" in schedule.tick(worker="test")
    with uow() as s:
        assert s.get(Order, order_id).status == "expired"


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres-concurrency")
def test_two_workers_expiring_at_once_release_each_order_s_seats_exactly_once(pg, uow, travel) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=100)
    order_ids = [_place(uow, shop, email=f"b{n}@example.org", quantity=2) for n in range(40)]
    assert _used(uow, shop) == 80
    travel(3 * DAY + 60)
    barrier = Barrier(2)

    def worker(_: int) -> int:
        barrier.wait()
        return expire_due_orders()

    with ThreadPoolExecutor(max_workers=2) as pool:
        expired = sum(pool.map(worker, range(2)))
    assert expired == 40
    assert _used(uow, shop) == 0
    with uow() as s:
        per_order = Counter(s.scalars(select(AuditEntry.order_id).where(AuditEntry.action == "order.expired")))
        assert per_order == Counter({order_id: 1 for order_id in order_ids})


def _reminders(uow) -> list[tuple[int | None, str]]:  # type: ignore[no-untyped-def]
    with uow() as s:
        return [(m.order_id, m.state) for m in s.scalars(select(Mail).where(Mail.template == "expiry-reminder"))]


def test_a_buyer_is_reminded_once_per_deadline(uow, shop, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    paid_id = _place(uow, shop, email="paid@example.org")
    with uow() as s:
        payment = payments.start_payment(s, paid_id, provider="manual", actor="buyer")
        payments.confirm_payment(s, payment.id, actor="user:admin")
    assert queue_expiry_reminders() == 0, "three days left: too early"
    travel(2 * DAY + 3600)
    assert queue_expiry_reminders() == 1
    assert queue_expiry_reminders() == 0
    assert _reminders(uow) == [(order_id, "logged")]
    with uow() as s:
        orders.extend_order(s, order_id, actor="user:admin", expires_at=now() + timedelta(days=4))
    travel(3 * DAY + 3600)
    assert queue_expiry_reminders() == 1, "a new deadline earns a new reminder"
    assert _reminders(uow) == [(order_id, "logged"), (order_id, "logged")]


def test_reminders_follow_the_event_setting(uow, shop, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    _settings(uow, shop, **{"expiry-reminder-hours": 0})
    _place(uow, shop)
    travel(3 * DAY - 60)
    assert queue_expiry_reminders() == 0
    _settings(uow, shop, **{"expiry-reminder-hours": 1})
    assert queue_expiry_reminders() == 1


def _late_payment_with_quota_gone(uow, policy: str):  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=1)
        create_user(s, email="boss@acme.example", password="long enough", organizer_slug="acme", role="admin")
        s.get(Event, shop.event_id).settings = {"late-payment-policy": policy}
    late = _place(uow, shop)
    with uow() as s:
        payment_id = payments.start_payment(s, late, provider="manual", actor="buyer").id
    return shop, late, payment_id


def test_a_late_payment_without_quota_is_kept_and_the_organizer_asked(uow, run_jobs, travel, smtp) -> None:  # type: ignore[no-untyped-def]
    shop, late, payment_id = _late_payment_with_quota_gone(uow, "ask")
    travel(3 * DAY + 60)
    expire_due_orders()
    _place(uow, shop, email="second@example.org")  # takes the only seat
    with uow() as s:
        assert payments.confirm_payment(s, payment_id, actor="bank").outcome == ConfirmOutcome.QUOTA_EXCEEDED
    with uow() as s:
        assert s.get(Order, late).status == "expired"
        assert s.scalar(select(func.count(Refund.id))) == 0
    [notice] = [m for m in smtp.messages if "quota gone" in str(m["Subject"])]
    assert notice["To"] == "boss@acme.example"
    assert "Please decide" in notice.get_body(preferencelist=("plain",)).get_content()


def test_under_the_refund_policy_a_late_payment_without_quota_goes_back(uow, run_jobs, travel, smtp) -> None:  # type: ignore[no-untyped-def]
    shop, late, payment_id = _late_payment_with_quota_gone(uow, "refund")
    travel(3 * DAY + 60)
    expire_due_orders()
    _place(uow, shop, email="second@example.org")
    with uow() as s:
        payments.confirm_payment(s, payment_id, actor="bank")
    with uow() as s:
        [refund] = s.scalars(select(Refund))
        assert (refund.payment_id, refund.amount, refund.state) == (payment_id, D("49.00"), "created")
        assert "late-payment policy" in (refund.comment or "")
        assert s.get(Order, late).status == "expired"
    [notice] = [m for m in smtp.messages if "quota gone" in str(m["Subject"])]
    assert "refunded automatically" in notice.get_body(preferencelist=("plain",)).get_content()
