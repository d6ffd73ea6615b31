"""Stripe webhook events as Stripe sends them, and the ``Stripe-Signature`` header that signs them.

Builders return plain dicts in Stripe's JSON shapes (amounts in minor units, lower-case currencies,
ids with Stripe's prefixes). Serialize with :func:`dumps` and sign the exact bytes with :func:`sign`::

    event = payment_intent_succeeded("pi_123", amount=4900, currency="eur", metadata={"payment": "7"})
    body = dumps(event)
    headers = {"Stripe-Signature": sign(body, "whsec_test")}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any, Literal

from boxoffice.providers.stripe.gateway import STRIPE_API_VERSION


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with secret>``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def dumps(event: dict[str, Any]) -> bytes:
    """The body bytes, pretty-printed as Stripe delivers them."""
    return json.dumps(event, indent=2).encode()


def event(
    event_type: str,
    obj: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """The event envelope around ``obj`` (a snapshot event, as webhook endpoints receive them)."""
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    automatic = idempotency_key is None
    return {
        "id": _id("evt_"),
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None if automatic else _id("req_"), "idempotency_key": idempotency_key},
        "type": event_type,
    }


def _card_details() -> dict[str, Any]:
    return {"brand": "visa", "country": "US", "exp_month": 12, "exp_year": 2034, "funding": "credit",
            "last4": "4242", "network": "visa", "three_d_secure": None, "wallet": None}  # fmt: skip


def payment_intent(
    intent_id: str,
    *,
    amount: int,
    currency: str,
    status: str,
    metadata: dict[str, str] | None = None,
    latest_charge: str | None = None,
    last_payment_error: dict[str, Any] | None = None,
    canceled_at: int | None = None,
    cancellation_reason: str | None = None,
) -> dict[str, Any]:
    """A PaymentIntent object (card only, automatic capture)."""
    created = int(time.time())
    return {
        "id": intent_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": amount if status == "succeeded" else 0,
        "allowed_payment_method_types": ["card"], "application": None, "application_fee_amount": None,
        "automatic_payment_methods": None, "canceled_at": canceled_at,
        "cancellation_reason": cancellation_reason, "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}", "confirmation_method": "automatic",
        "created": created, "currency": currency, "customer": None, "description": None,
        "excluded_payment_method_types": None, "last_payment_error": last_payment_error,
        "latest_charge": latest_charge, "livemode": False, "metadata": metadata or {},
        "next_action": None, "on_behalf_of": None, "payment_method": _id("pm_"),
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": None, "review": None,
        "setup_future_usage": None, "shipping": None, "source": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None, "status": status, "transfer_data": None, "transfer_group": None,
    }  # fmt: skip


def charge(
    charge_id: str,
    *,
    payment_intent: str,
    amount: int,
    currency: str,
    amount_refunded: int = 0,
    disputed: bool = False,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A succeeded card Charge (``refunds`` is not included in events since 2022-11-15)."""
    return {
        "id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount,
        "amount_refunded": amount_refunded, "application": None, "application_fee": None,
        "application_fee_amount": None, "balance_transaction": _id("txn_"),
        "billing_details": {"address": {"city": None, "country": None, "line1": None, "line2": None,
                                        "postal_code": None, "state": None},
                            "email": None, "name": None, "phone": None},
        "calculated_statement_descriptor": "BOXOFFICE", "captured": True, "created": int(time.time()),
        "currency": currency, "customer": None, "description": None, "disputed": disputed,
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "fraud_details": {}, "livemode": False, "metadata": metadata or {}, "on_behalf_of": None,
        "outcome": {"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                    "risk_score": 20, "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True, "payment_intent": payment_intent, "payment_method": _id("pm_"),
        "payment_method_details": {"card": _card_details(), "type": "card"}, "receipt_email": None,
        "receipt_number": None, "receipt_url": f"https://pay.stripe.com/receipts/payment/{charge_id}",
        "refunded": amount_refunded >= amount, "review": None, "shipping": None, "source": None,
        "source_transfer": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "succeeded", "transfer_data": None, "transfer_group": None,
    }  # fmt: skip


def refund(
    refund_id: str,
    *,
    charge: str,
    payment_intent: str,
    amount: int,
    currency: str,
    status: str = "succeeded",
    failure_reason: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A card Refund; ``failure_reason`` (e.g. ``expired_or_canceled_card``) when ``status='failed'``."""
    obj: dict[str, Any] = {
        "id": refund_id, "object": "refund", "amount": amount, "balance_transaction": _id("txn_"),
        "charge": charge, "created": int(time.time()), "currency": currency,
        "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                         "reference_type": "acquirer_reference_number", "type": "refund"},
                                "type": "card"},
        "metadata": metadata or {}, "payment_intent": payment_intent, "reason": None,
        "receipt_number": None, "source_transfer_reversal": None, "status": status,
        "transfer_reversal": None,
    }  # fmt: skip
    if status == "failed":
        obj["failure_reason"] = failure_reason or "unknown"
        obj["failure_balance_transaction"] = _id("txn_")
    return obj


def dispute(
    dispute_id: str,
    *,
    charge: str,
    payment_intent: str,
    amount: int,
    currency: str,
    status: str = "needs_response",
    reason: str = "fraudulent",
) -> dict[str, Any]:
    """A card Dispute; money is withdrawn when it opens and reinstated when it is won."""
    withdrawn = _balance_transaction(-amount, currency, "Chargeback withdrawal")
    moves = [withdrawn]
    if status == "won":
        moves.append(_balance_transaction(amount, currency, "Chargeback reversal"))
    evidence_keys = (
        "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
        "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
        "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
        "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
        "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
        "service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
        "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
    )  # fmt: skip
    return {
        "id": dispute_id, "object": "dispute", "amount": amount, "balance_transactions": moves,
        "charge": charge, "created": int(time.time()), "currency": currency,
        "enhanced_eligibility_types": [], "evidence": dict.fromkeys(evidence_keys),
        "evidence_details": {"due_by": int(time.time()) + 14 * 86400, "enhanced_eligibility": {},
                             "has_evidence": False, "past_due": False, "submission_count": 0},
        "is_charge_refundable": False, "livemode": False, "metadata": {}, "network_reason_code": "10.4",
        "payment_intent": payment_intent,
        "payment_method_details": {"card": {"brand": "visa", "case_type": "chargeback",
                                            "network_reason_code": "10.4"}, "type": "card"},
        "reason": reason, "status": status,
    }  # fmt: skip


def _balance_transaction(amount: int, currency: str, description: str) -> dict[str, Any]:
    fee = 1500 if amount < 0 else -1500
    return {
        "id": _id("txn_"), "object": "balance_transaction", "amount": amount,
        "available_on": int(time.time()), "created": int(time.time()), "currency": currency,
        "description": description, "exchange_rate": None, "fee": fee,
        "fee_details": [{"amount": fee, "application": None, "currency": currency,
                         "description": "Dispute fee", "type": "stripe_fee"}],
        "net": amount - fee, "reporting_category": "dispute", "source": _id("dp_"),
        "status": "available", "type": "adjustment",
    }  # fmt: skip


# --- the events boxoffice listens to ------------------------------------------------------------


def payment_intent_succeeded(
    intent_id: str,
    *,
    amount: int,
    currency: str,
    metadata: dict[str, str] | None = None,
    charge_id: str | None = None,
) -> dict[str, Any]:
    obj = payment_intent(
        intent_id, amount=amount, currency=currency, status="succeeded", metadata=metadata,
        latest_charge=charge_id or _id("ch_"),
    )  # fmt: skip
    return event("payment_intent.succeeded", obj)


def payment_intent_payment_failed(
    intent_id: str,
    *,
    amount: int,
    currency: str,
    metadata: dict[str, str] | None = None,
    message: str = "Your card was declined.",
    decline_code: str = "generic_decline",
) -> dict[str, Any]:
    charge_id = _id("ch_")
    error = {
        "charge": charge_id, "code": "card_declined", "decline_code": decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/card-declined", "message": message,
        "payment_method": {"id": _id("pm_"), "object": "payment_method", "type": "card"},
        "type": "card_error",
    }  # fmt: skip
    obj = payment_intent(
        intent_id, amount=amount, currency=currency, status="requires_payment_method", metadata=metadata,
        latest_charge=charge_id, last_payment_error=error,
    )  # fmt: skip
    return event("payment_intent.payment_failed", obj)


def payment_intent_canceled(
    intent_id: str,
    *,
    amount: int,
    currency: str,
    metadata: dict[str, str] | None = None,
    cancellation_reason: str = "abandoned",
) -> dict[str, Any]:
    obj = payment_intent(
        intent_id, amount=amount, currency=currency, status="canceled", metadata=metadata,
        canceled_at=int(time.time()), cancellation_reason=cancellation_reason,
    )  # fmt: skip
    return event("payment_intent.canceled", obj)


def charge_refunded(
    charge_id: str,
    *,
    payment_intent: str,
    amount: int,
    amount_refunded: int,
    currency: str,
    previously_refunded: int = 0,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    obj = charge(
        charge_id, payment_intent=payment_intent, amount=amount, currency=currency,
        amount_refunded=amount_refunded, metadata=metadata,
    )  # fmt: skip
    previous = {"amount_refunded": previously_refunded, "refunded": previously_refunded >= amount}
    return event("charge.refunded", obj, previous_attributes=previous)


def charge_refund_updated(
    refund_id: str,
    *,
    charge: str,
    payment_intent: str,
    amount: int,
    currency: str,
    status: str,
    previous_status: str = "pending",
    failure_reason: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    obj = refund(
        refund_id, charge=charge, payment_intent=payment_intent, amount=amount, currency=currency,
        status=status, failure_reason=failure_reason, metadata=metadata,
    )  # fmt: skip
    return event("charge.refund.updated", obj, previous_attributes={"status": previous_status})


def charge_dispute_created(
    dispute_id: str,
    *,
    charge: str,
    payment_intent: str,
    amount: int,
    currency: str,
    reason: str = "fraudulent",
) -> dict[str, Any]:
    obj = dispute(
        dispute_id, charge=charge, payment_intent=payment_intent, amount=amount, currency=currency,
        status="needs_response", reason=reason,
    )  # fmt: skip
    return event("charge.dispute.created", obj)


def charge_dispute_closed(
    dispute_id: str,
    *,
    charge: str,
    payment_intent: str,
    amount: int,
    currency: str,
    status: Literal["won", "lost"],
    reason: str = "fraudulent",
) -> dict[str, Any]:
    if status not in ("won", "lost"):
        raise ValueError("a closed dispute is won or lost")
    obj = dispute(
        dispute_id, charge=charge, payment_intent=payment_intent, amount=amount, currency=currency,
        status=status, reason=reason,
    )  # fmt: skip
    return event("charge.dispute.closed", obj, previous_attributes={"status": "under_review"})
