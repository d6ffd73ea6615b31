"""The janitor settles payments and refunds left open when a provider call timed out or a callback never came."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import ClassVar

import pytest
from sqlalchemy import select

from boxoffice.accounts.service import create_user
from boxoffice.mail.models import Mail
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem, place_order
from boxoffice.outbox import schedule
from boxoffice.payments import checkout, janitor
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.providers import registry
from boxoffice.providers.base import PaymentProvider, ProviderUnavailable, RemoteStatus
from conftest import make_shop

D = Decimal
MINUTE, HOUR, DAY = 60, 3600, 24 * 3600


class SlowRemote(PaymentProvider):
    """A remote provider whose charge call always times out; what it knows is set by the test."""

    identifier = "slowremote"
    verbose_name = "Slow remote"
    remote: ClassVar[dict[str, RemoteStatus]] = {}
    asked: ClassVar[list[str]] = []

    def execute_payment(self, payment: Payment) -> str | None:
        raise ProviderUnavailable("no answer within 10 seconds")

    def fetch_payment_status(self, payment: Payment) -> RemoteStatus:
        self.asked.append(payment.full_id)
        return self.remote.get(payment.full_id, RemoteStatus("unknown"))

    def fetch_refund_status(self, refund: Refund) -> RemoteStatus:
        self.asked.append(refund.full_id)
        return self.remote.get(refund.full_id, RemoteStatus("unknown"))


@pytest.fixture(autouse=True)
def slowremote(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[SlowRemote]]:
    installed = registry.provider_classes()
    monkeypatch.setattr(registry, "provider_classes", lambda: {**installed, "slowremote": SlowRemote})
    SlowRemote.remote.clear()
    SlowRemote.asked.clear()
    yield SlowRemote


def _timed_out_payment(uow) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, providers={"slowremote": {"enabled": True}, "manual": {"enabled": True}})
        create_user(s, email="boss@acme.example", password="long enough", organizer_slug="acme", role="admin")
        order = place_order(s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="b")
        order_id = order.id
    outcome = checkout.pay(order_id, provider="slowremote", actor="buyer")
    assert outcome.state == "pending", "the timeout leaves the attempt pending"
    with uow() as s:
        payment = s.get(Payment, outcome.payment_id)
        return order_id, payment.id, payment.full_id


def test_the_janitor_finds_the_money_of_a_timed_out_payment_and_confirms_it(uow, travel) -> None:  # type: ignore[no-untyped-def]
    order_id, payment_id, full_id = _timed_out_payment(uow)
    assert janitor.run_janitor() == {}, "not asked before five minutes"
    SlowRemote.remote[full_id] = RemoteStatus("confirmed", amount=D("49.00"))
    travel(5 * MINUTE + 1)
    assert janitor.run_janitor() == {"confirm": 1}
    with uow() as s:
        payment, order = s.get(Payment, payment_id), s.get(Order, order_id)
        assert (payment.state, payment.next_check_at) == ("confirmed", None)
        assert (order.status, order.payment_state) == ("paid", "paid")
        actors = {e.actor for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "payment.confirmed"))}
        assert actors == {janitor.ACTOR}
    assert janitor.run_janitor() == {}


def test_the_periodic_janitor_job_runs_through_the_schedule(uow, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    _, payment_id, full_id = _timed_out_payment(uow)
    SlowRemote.remote[full_id] = RemoteStatus("failed", message="Card expired")
    travel(6 * MINUTE)
    assert "payments.janitor" in schedule.tick(worker="test")
    with uow() as s:
        payment = s.get(Payment, payment_id)
        assert payment.state == "failed" and payment.info["message"] == "Card expired"


def test_an_unknown_outcome_is_asked_again_on_the_schedule_then_shown_to_the_organizer_once(uow, run_jobs, travel) -> None:  # type: ignore[no-untyped-def]
    order_id, payment_id, full_id = _timed_out_payment(uow)
    for age in (5 * MINUTE, HOUR, 6 * HOUR, DAY, 2 * DAY, 3 * DAY):
        travel(0)  # back to the real time, then to ``age`` after the payment was made
        travel(age + 1)
        janitor.run_janitor()
    assert SlowRemote.asked == [full_id] * 6
    with uow() as s:
        payment = s.get(Payment, payment_id)
        assert payment.state == "pending" and payment.next_check_at is not None
        organizer_id = payment.order.event.organizer_id
        assert [p.full_id for p in janitor.unresolved_attempts(s, organizer_id)] == [full_id]
    travel(DAY)
    janitor.run_janitor()
    assert len(SlowRemote.asked) == 7, "still asked once a day"
    with uow() as s:
        notes = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "payment.unresolved")))
        mails = list(s.scalars(select(Mail).where(Mail.template == "unresolved-attempt")))
    assert [n.order_id for n in notes] == [order_id]
    assert [(m.recipients, m.state) for m in mails] == [(["boss@acme.example"], "logged")]  # no SMTP in this test: printed to the log


def test_a_refund_stuck_in_transit_is_marked_done_when_the_provider_says_so(uow, travel) -> None:  # type: ignore[no-untyped-def]
    _, payment_id, full_id = _timed_out_payment(uow)
    SlowRemote.remote[full_id] = RemoteStatus("confirmed", amount=D("49.00"))
    travel(6 * MINUTE)
    janitor.run_janitor()
    with uow() as s:
        refund = payments.create_refund(s, payment_id, amount=D("49.00"), actor="user:boss")
        payments.set_refund_transit(s, refund.id, actor="provider:slowremote")
        refund_id, refund_full_id = refund.id, refund.full_id
    SlowRemote.remote[refund_full_id] = RemoteStatus("done")
    travel(6 * MINUTE)
    assert janitor.run_janitor() == {"done": 1}
    with uow() as s:
        assert s.get(Refund, refund_id).state == "done"
        assert s.get(Payment, payment_id).state == "refunded"


def test_providers_that_cannot_be_asked_are_left_alone(uow, travel) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        order = place_order(s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="b")
        payment = payments.start_payment(s, order.id, provider="manual", actor="buyer")
        payments.set_payment_pending(s, payment.id, actor="provider:manual")
    travel(2 * DAY)
    assert janitor.run_janitor() == {}
    with uow() as s:
        assert janitor.unresolved_attempts(s, shop.event.organizer_id) == []


def test_the_organizer_can_have_one_order_checked_at_once(uow) -> None:  # type: ignore[no-untyped-def]
    order_id, payment_id, full_id = _timed_out_payment(uow)
    SlowRemote.remote[full_id] = RemoteStatus("confirmed", amount=D("49.00"))
    with uow() as s:
        checked = janitor.check_order(s, order_id, "user:boss")
    assert checked == [janitor.Checked("payment", full_id, "confirmed", "confirm")]
    with uow() as s:
        assert s.get(Order, order_id).status == "paid"
        assert s.get(Payment, payment_id).state == "confirmed"
