"""PayPal's vocabulary in ours, and an event's PayPal settings: the pure parts."""

from __future__ import annotations

import pytest

from boxoffice.providers.paypal import rules
from boxoffice.providers.paypal.provider import PayPalProvider
from boxoffice.providers.paypal.settings import PayPalSettings, complete


def test_our_mark_is_read_back_and_nothing_else_is() -> None:
    assert rules.read_mark(rules.mark(17, "ABCDE-P-1")) == (17, "ABCDE-P-1")
    for other in (None, "", "payment-17", "bxo:x:ABCDE-P-1", "bxo:17:", "xyz:17:ABCDE-P-1", "bxo:1:2:3"):
        assert rules.read_mark(other) is None
    assert len(rules.mark(10**12, "ABCDE-P-999")) <= 127  # PayPal's limit for custom_id and invoice_id


def test_request_ids_differ_per_attempt_and_step_and_repeat_for_a_retry() -> None:
    create = rules.request_id("payment", 7, "ABCDE-P-1", "create")
    assert create == rules.request_id("payment", 7, "ABCDE-P-1", "create")
    assert create != rules.request_id("payment", 7, "ABCDE-P-1", "capture")
    assert create != rules.request_id("payment", 8, "ABCDE-P-2", "create")


@pytest.mark.parametrize(
    ("status", "state"),
    [("COMPLETED", "confirmed"), ("PARTIALLY_REFUNDED", "confirmed"), ("REFUNDED", "confirmed"),
     ("PENDING", "pending"), ("DECLINED", "failed"), ("DENIED", "failed"), ("FAILED", "failed"),
     ("NEW", "unknown"), (None, "unknown")],
)  # fmt: skip
def test_capture_statuses(status: str | None, state: str) -> None:
    assert rules.capture_state(status) == state


@pytest.mark.parametrize(
    ("status", "state"),
    [("COMPLETED", "done"), ("PENDING", "transit"), ("FAILED", "failed"), ("CANCELLED", "canceled"),
     ("NEW", "unknown")],
)  # fmt: skip
def test_refund_statuses(status: str, state: str) -> None:
    assert rules.refund_state(status) == state


@pytest.mark.parametrize(
    ("order_status", "capture", "state"),
    [("CREATED", None, "pending"), ("PAYER_ACTION_REQUIRED", None, "pending"), ("APPROVED", None, "pending"),
     ("VOIDED", None, "canceled"), ("COMPLETED", "COMPLETED", "confirmed"), ("COMPLETED", "PENDING", "pending"),
     ("COMPLETED", "DECLINED", "failed"), ("COMPLETED", None, "unknown")],
)  # fmt: skip
def test_the_janitor_reads_an_order_by_its_capture(order_status: str, capture: str | None, state: str) -> None:
    assert rules.order_state(order_status, capture) == state


@pytest.mark.parametrize(
    ("outcome", "won"),
    [("RESOLVED_SELLER_FAVOUR", True), ("RESOLVED_WITH_PAYOUT", True), ("CANCELED_BY_BUYER", True),
     ("DENIED", True), ("RESOLVED_BUYER_FAVOUR", False), ("ACCEPTED", False), ("NONE", False), (None, False)],
)  # fmt: skip
def test_dispute_outcomes(outcome: str | None, won: bool) -> None:
    assert rules.dispute_won(outcome) is won


def test_a_dispute_and_a_reversal_pair_up() -> None:
    assert rules.PAIRED_KINDS == {"dispute": "reversal", "reversal": "dispute"}


def test_settings_keep_the_client_secret_write_only() -> None:
    stored = PayPalProvider.validate_settings(
        {"enabled": True, "client-id": "id", "client-secret": "secret", "webhook-id": "WH-1"}, currency="EUR"
    )
    shown = PayPalSettings.load(stored).public_dict()
    assert "client-secret" not in shown and shown["client-id"] == "id" and shown["webhook-id"] == "WH-1"


def test_paypal_may_be_enabled_early_but_is_offered_only_with_credentials_and_webhook() -> None:
    assert PayPalProvider.validate_settings({"enabled": True}, currency="EUR")["enabled"] is True
    whole = {"enabled": True, "client-id": "id", "client-secret": "secret", "webhook-id": "WH-1"}
    assert complete(PayPalSettings.load(whole))
    for missing in ("client-id", "client-secret", "webhook-id"):
        assert not complete(PayPalSettings.load({**whole, missing: ""}))
