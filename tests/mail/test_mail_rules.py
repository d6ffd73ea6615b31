"""Which audit entry causes which mail, and the cause keys that keep each mail to one per cause."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.mail.rules import TEMPLATES, Audience, expiry_reminder, mails_for, unresolved_attempt
from boxoffice.mail.transport import parse_smtp_url

D = Decimal


def _one(action: str, data: dict[str, object] | None = None, **kw: object) -> tuple[str, str] | None:
    options: dict[str, object] = {"order_status": "pending", "order_total": D("49.00"), **kw}
    intents = mails_for(action, data or {}, **options)  # type: ignore[arg-type]
    assert len(intents) <= 1
    return (intents[0].template, intents[0].cause) if intents else None


def test_a_placed_order_gets_a_confirmation_unless_it_is_free() -> None:
    assert _one("order.placed") == ("order-placed", "placed")
    assert _one("order.placed", order_total=D(0)) is None


def test_each_time_an_order_becomes_paid_is_its_own_cause() -> None:
    assert _one("order.paid", occurrence=1) == ("order-paid", "paid#1")
    assert _one("order.paid", occurrence=2) == ("order-paid", "paid#2")


@pytest.mark.parametrize(
    ("action", "data", "expected"),
    [
        ("payment.pending", {"payment": "AB-P-1"}, ("payment-pending", "payment:AB-P-1")),
        ("payment.failed", {"payment": "AB-P-2"}, ("payment-failed", "payment:AB-P-2")),
        ("refund.done", {"refund": "AB-R-1"}, ("refund-done", "refund:AB-R-1")),
        ("order.overpaid", {"payment": "AB-P-3", "overpaid_by": "5.00"}, ("order-overpaid", "payment:AB-P-3")),
        ("order.quota-exceeded", {"payment": "AB-P-4"}, ("quota-exceeded", "payment:AB-P-4")),
        ("refund.external", {"refund": "AB-R-2"}, ("refund-external", "refund:AB-R-2")),
    ],
)
def test_payment_and_refund_mails_are_caused_by_their_attempt(
    action: str, data: dict[str, object], expected: tuple[str, str]
) -> None:
    assert _one(action, data) == expected


def test_a_failed_attempt_is_only_news_for_the_buyer_while_the_order_is_pending() -> None:
    assert _one("payment.failed", {"payment": "AB-P-2"}, order_status="paid") is None
    assert _one("payment.failed", {"payment": "AB-P-2"}, order_status="canceled") is None


@pytest.mark.parametrize("action", ["payment.created", "order.expired", "order.extended", "refund.transit", "x.y"])
def test_other_actions_send_no_mail(action: str) -> None:
    assert _one(action, {"payment": "AB-P-1", "refund": "AB-R-1"}) is None


def test_every_mail_has_an_audience_and_both_templates() -> None:
    from importlib.resources import files

    templates = files("boxoffice.mail") / "templates"
    for name, audience in TEMPLATES.items():
        assert audience in (Audience.BUYER, Audience.ORGANIZER)
        assert (templates / f"{name}.txt").is_file() and (templates / f"{name}.html").is_file()


def test_reminders_and_janitor_notices_have_their_own_causes() -> None:
    assert expiry_reminder("2030-01-01T10:00:00+00:00").cause == "deadline:2030-01-01T10:00:00+00:00"
    notice = unresolved_attempt("payment", "AB-P-1")
    assert (notice.template, notice.cause, notice.audience) == ("unresolved-attempt", "payment:AB-P-1", "organizer")


def test_smtp_urls_name_server_sender_credentials_and_tls() -> None:
    plain = parse_smtp_url("smtp://127.0.0.1:1025", default_sender="bo@example.org")
    assert (plain.host, plain.port, plain.sender, plain.starttls, plain.implicit_tls) == (
        "127.0.0.1",
        1025,
        "bo@example.org",
        False,
        False,
    )
    full = parse_smtp_url(
        "smtp://user%40x:p%3Ass@mail.example.org:587?starttls=true&from=tickets%40example.org", default_sender="x@y"
    )
    assert (full.username, full.password, full.starttls, full.sender) == ("user@x", "p:ss", True, "tickets@example.org")
    tls = parse_smtp_url("smtps://mail.example.org", default_sender="x@y")
    assert (tls.port, tls.implicit_tls) == (465, True)
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example.org", default_sender="x@y")
