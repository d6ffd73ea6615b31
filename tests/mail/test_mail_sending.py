"""Mails go out over real SMTP (aiosmtpd on loopback) once per cause, with retries when SMTP fails."""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import select

from boxoffice.accounts.service import create_user
from boxoffice.mail.models import Mail
from boxoffice.mail.render import order_url
from boxoffice.mail.service import notify_unmatched_transfer
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.outbox import runner
from boxoffice.outbox.dispatch import Synchronous
from boxoffice.payments import service as payments
from conftest import make_shop

D = Decimal
INSTRUCTIONS = "Pay in cash at the entrance."


def _shop(uow):  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, providers={"manual": {"enabled": True, "instructions": INSTRUCTIONS}})
        create_user(s, email="boss@acme.example", password="long enough", organizer_slug="acme", role="admin")
        create_user(s, email="helper@acme.example", password="long enough", organizer_slug="acme", role="staff")
        return shop


def _place(s, shop, email="buyer@example.org"):  # type: ignore[no-untyped-def]
    return orders.place_order(s, shop.event_id, email=email, items=[LineItem(shop.regular_id, 1)], actor="buyer")


def _mails(uow) -> list[Mail]:  # type: ignore[no-untyped-def]
    with uow() as s:
        return list(s.scalars(select(Mail).order_by(Mail.id)))


def test_the_buyer_gets_the_order_with_payment_instructions_then_one_paid_mail(uow, run_jobs, smtp) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow)
    with uow() as s:
        order = _place(s, shop)
        payment = payments.start_payment(s, order.id, provider="manual", actor="buyer")
        payments.set_payment_pending(s, payment.id, actor="provider:manual")
        code = order.code
    assert smtp.subjects() == [f"Your order {code} for conf EUR"], "one mail, no separate instructions mail"
    placed = smtp.messages[0]
    assert placed["To"] == "buyer@example.org" and placed["From"] == "tickets@boxoffice.test"
    text = placed.get_body(preferencelist=("plain",)).get_content()
    html = placed.get_body(preferencelist=("html",)).get_content()
    assert INSTRUCTIONS in text and INSTRUCTIONS in html
    assert "49.00 EUR" in text and "<p>" not in text and "<table" in html

    with uow() as s:
        payments.confirm_payment(s, payment.id, actor="user:boss")
    with uow() as s:
        payments.confirm_payment(s, payment.id, actor="user:boss")  # confirmed twice: still one mail
    assert smtp.subjects() == [f"Your order {code} for conf EUR", f"Order {code} is paid"]
    assert [(m.template, m.state, m.attempts) for m in _mails(uow)] == [
        ("order-placed", "sent", 1),
        ("order-paid", "sent", 1),
    ]


def test_a_payment_going_pending_later_brings_its_own_instructions(uow, run_jobs, smtp) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow)
    with uow() as s:
        order_id = _place(s, shop).id
    with uow() as s:
        payment = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        payments.set_payment_pending(s, payment.id, actor="provider:manual")
    assert len(smtp.messages) == 2
    instructions = smtp.messages[1]
    assert str(instructions["Subject"]).startswith("How to pay for order")
    assert INSTRUCTIONS in instructions.get_body(preferencelist=("plain",)).get_content()


def test_organizer_mails_go_to_the_admins_only(uow, run_jobs, smtp) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow)
    with uow() as s:
        order_id = _place(s, shop).id
    with uow() as s:
        paid = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        payments.confirm_payment(s, paid.id, actor="user:boss")
    with uow() as s:
        extra = payments.start_payment(
            s, order_id, provider="manual", actor="user:boss", amount=D("11.00"), allow_settled=True
        )
        payments.confirm_payment(s, extra.id, actor="user:boss")
    overpaid = [(m, to) for m, to in zip(smtp.messages, smtp.envelopes, strict=True) if "overpaid" in str(m["Subject"])]
    assert len(overpaid) == 1
    message, envelope = overpaid[0]
    assert envelope == ["boss@acme.example"] and message["To"] == "boss@acme.example"
    assert "11.00 EUR" in message.get_body(preferencelist=("plain",)).get_content()


def test_an_unmatched_bank_transfer_is_reported_once(uow, run_jobs, smtp) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow)
    for _ in range(2):
        with uow() as s:
            notify_unmatched_transfer(
                s,
                shop.event.organizer_id,
                transaction_key="tx-42",
                amount=D("49.00"),
                currency="EUR",
                reference="XYZ unknown",
                payer="Jane Doe",
            )
    assert smtp.subjects() == ["Bank transfer of 49.00 EUR matches no order"]
    assert "Jane Doe" in smtp.messages[0].get_body(preferencelist=("plain",)).get_content()


def test_an_smtp_failure_is_retried_later_and_the_mail_sent_once(uow, run_jobs, smtp, travel) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow)
    smtp.refuse = 1
    with uow() as s:
        _place(s, shop)
    assert smtp.messages == []
    [mail] = _mails(uow)
    assert (mail.state, mail.attempts) == ("queued", 1) and "451" in (mail.last_error or "")
    travel(20)
    runner.sweep()
    [mail] = _mails(uow)
    assert (mail.state, mail.attempts) == ("sent", 2) and len(smtp.messages) == 1


def test_without_an_smtp_server_mails_are_written_to_the_log(uow, run_jobs, caplog) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow)
    with caplog.at_level(logging.INFO, logger="boxoffice.mail.transport"), uow() as s:
        order = _place(s, shop)
        code, link = order.code, order_url(order)
    assert f"Your order {code} for conf EUR" in caplog.text
    assert "To: buyer@example.org" in caplog.text and link in caplog.text
    # Truthful: the row says the mail was printed to the log, not that it reached anyone.
    assert [m.state for m in _mails(uow)] == ["logged"]


def test_a_logged_mail_is_printed_on_the_console_of_the_sending_process(uow, run_jobs, capfd, monkeypatch, console_logging) -> None:  # type: ignore[no-untyped-def]
    from boxoffice import config

    monkeypatch.setenv("BOXOFFICE_PUBLIC_URL", "http://127.0.0.1:8123")
    config.get_settings.cache_clear()
    console_logging()
    shop = _shop(uow)
    with uow() as s:
        code = _place(s, shop).code
    printed = capfd.readouterr().err
    assert "To: buyer@example.org" in printed and f"Subject: Your order {code}" in printed
    assert f"http://127.0.0.1:8123/e/acme/conf/order/{code}/" in printed
    config.get_settings.cache_clear()


def test_a_mail_whose_occasion_passed_before_sending_is_skipped(uow, deferred_jobs, smtp) -> None:  # type: ignore[no-untyped-def]
    shop = _shop(uow)
    with uow() as s:
        order_id = _place(s, shop).id
    with uow() as s:
        declined = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        payments.fail_payment(s, declined.id, actor="provider:manual", message="Card declined")
    with uow() as s:
        paid = payments.start_payment(s, order_id, provider="manual", actor="buyer")
        payments.confirm_payment(s, paid.id, actor="user:boss")
    runner.sweep(Synchronous())  # the mails only now reach a worker: the order is paid by then
    states = {m.template: m.state for m in _mails(uow)}
    assert states == {"order-placed": "sent", "payment-failed": "skipped", "order-paid": "sent"}
    assert not any("failed" in subject for subject in smtp.subjects())
