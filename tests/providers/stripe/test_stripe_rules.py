"""Stripe's vocabulary in ours, and an event's Stripe settings: the pure parts."""

from __future__ import annotations

import pytest

from boxoffice.errors import InvalidValue
from boxoffice.providers.settings import SECRETS_SET
from boxoffice.providers.stripe import rules
from boxoffice.providers.stripe.provider import StripeProvider
from boxoffice.providers.stripe.settings import StripeSettings, complete


def test_each_attempt_has_its_own_idempotency_key_and_a_retry_of_one_attempt_the_same() -> None:
    first = rules.idempotency_key("payment", 17, "ABCDE-P-1")
    assert first == rules.idempotency_key("payment", 17, "ABCDE-P-1")
    assert first != rules.idempotency_key("payment", 18, "ABCDE-P-2")  # the retry after a decline
    assert first != rules.idempotency_key("refund", 17, "ABCDE-R-1")
    assert "ABCDE-P-1" in first


def test_metadata_names_our_attempt_and_is_read_back_only_when_whole() -> None:
    metadata = rules.payment_metadata(17, "ABCDE-P-1")
    assert rules.claimed_row(metadata, rules.PAYMENT_KEY) == (17, "ABCDE-P-1")
    assert metadata[rules.ORDER_KEY] == "ABCDE"
    assert rules.claimed_row(rules.refund_metadata(4, "ABCDE-R-1"), rules.REFUND_KEY) == (4, "ABCDE-R-1")
    assert rules.claimed_row(rules.refund_metadata(4, "ABCDE-R-1"), rules.PAYMENT_KEY) is None
    for broken in ({}, {rules.PAYMENT_KEY: "17"}, {rules.PAYMENT_KEY: "x", rules.FULL_ID_KEY: "A-P-1"}, None):
        assert rules.claimed_row(broken, rules.PAYMENT_KEY) is None


@pytest.mark.parametrize(
    ("status", "state"),
    [("succeeded", "confirmed"), ("requires_action", "pending"), ("processing", "pending"),
     ("failed", "failed"), ("canceled", "canceled"), ("something_new", "unknown")],
)  # fmt: skip
def test_intent_statuses(status: str, state: str) -> None:
    assert rules.intent_state(status) == state


@pytest.mark.parametrize(
    ("status", "state"),
    [("succeeded", "done"), ("pending", "transit"), ("requires_action", "transit"), ("failed", "failed"),
     ("canceled", "canceled"), ("something_new", "unknown")],
)  # fmt: skip
def test_refund_statuses(status: str, state: str) -> None:
    assert rules.refund_state(status) == state


@pytest.mark.parametrize(
    ("status", "takes", "won"),
    [("needs_response", True, False), ("under_review", True, False), ("won", True, True), ("lost", True, False),
     ("warning_needs_response", False, False), ("warning_under_review", False, False),
     ("warning_closed", False, True)],
)  # fmt: skip
def test_disputes_take_money_unless_they_are_inquiries(status: str, takes: bool, won: bool) -> None:
    assert rules.dispute_takes_money(status) is takes
    assert rules.dispute_won(status) is won


def _save(raw: dict[str, object], current: dict[str, object] | None = None) -> dict[str, object]:
    return StripeProvider.validate_settings(raw, current=current, currency="EUR")


def test_settings_keep_secrets_write_only() -> None:
    stored = _save({"enabled": True, "secret-key": "sk_test_1", "publishable-key": "pk_test_1",
                    "webhook-secret": "whsec_1"})  # fmt: skip
    shown = StripeSettings.load(stored).public_dict()
    assert "secret-key" not in shown and "webhook-secret" not in shown
    assert shown["publishable-key"] == "pk_test_1"
    assert shown[SECRETS_SET] == ["secret-key", "webhook-secret"]
    # Saving other settings leaves the secrets as they were.
    again = _save({"fee-abs": "0.30"}, current=stored)
    assert (again["secret-key"], again["webhook-secret"]) == ("sk_test_1", "whsec_1")


@pytest.mark.parametrize(
    ("raw", "member"),
    [
        ({"secret-key": "pk_test_oops"}, "secret-key"),
        ({"publishable-key": "sk_test_oops"}, "publishable-key"),
        ({"webhook-secret": "sk_test_oops"}, "webhook-secret"),
    ],
    ids=["key-swapped", "publishable-swapped", "bad-secret"],
)
def test_keys_that_are_not_stripes_are_refused_with_a_pointer(raw: dict[str, object], member: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        _save(raw)
    assert refused.value.pointer == f"/data/attributes/payment-providers/stripe/{member}"


def test_stripe_may_be_enabled_early_but_is_offered_only_with_both_secrets() -> None:
    assert _save({"enabled": True})["enabled"] is True
    assert not complete(StripeSettings.load({"enabled": True, "secret-key": "sk_test_1"}))
    assert not complete(StripeSettings.load({"enabled": True, "webhook-secret": "whsec_1"}))
    assert complete(StripeSettings.load({"enabled": True, "secret-key": "sk_test_1", "webhook-secret": "whsec_1"}))


def test_a_test_publishable_key_with_a_live_secret_key_is_refused() -> None:
    with pytest.raises(InvalidValue, match="both be live keys or both be test keys") as refused:
        _save({"secret-key": "sk_live_1", "publishable-key": "pk_test_1"})
    assert refused.value.pointer == "/data/attributes/payment-providers/stripe/publishable-key"
    stored = _save({"secret-key": "sk_live_1"})
    with pytest.raises(InvalidValue):
        _save({"publishable-key": "pk_test_1"}, current=stored)  # the kept secret key counts too
    assert _save({"publishable-key": "pk_live_1"}, current=stored)["publishable-key"] == "pk_live_1"


def test_three_decimal_currencies_are_charged_only_in_steps_stripe_takes() -> None:
    from decimal import Decimal

    from boxoffice.providers.stripe.gateway import supported_amount

    assert supported_amount(Decimal("12.340"), "KWD") and not supported_amount(Decimal("12.345"), "KWD")
    assert supported_amount(Decimal("1500"), "JPY") and supported_amount(Decimal("49.99"), "EUR")
