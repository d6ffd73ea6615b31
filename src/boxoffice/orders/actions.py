"""The kinds of audit entries, as one enum (pure: no I/O). Re-exported by :mod:`boxoffice.orders.audit`."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Every kind of audit entry. The values are stored and shown by the API (``audit-entries``), and
    the ones in ``webhooks.rules.EVENT_TYPES`` are also outgoing webhook event types."""

    ORDER_PLACED = "order.placed"
    ORDER_PAID = "order.paid"
    ORDER_PENDING = "order.pending"
    ORDER_EXPIRED = "order.expired"
    ORDER_REACTIVATED = "order.reactivated"
    ORDER_EXTENDED = "order.extended"
    ORDER_CANCELED = "order.canceled"
    ORDER_CHANGED = "order.changed"
    ORDER_OVERPAID = "order.overpaid"
    ORDER_QUOTA_EXCEEDED = "order.quota-exceeded"
    ORDER_PAYMENT_METHOD = "order.payment-method"
    ORDER_SHREDDED = "order.shredded"
    PAYMENT_CREATED = "payment.created"
    PAYMENT_SENT = "payment.sent"
    PAYMENT_PENDING = "payment.pending"
    PAYMENT_CONFIRMED = "payment.confirmed"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELED = "payment.canceled"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_AMOUNT_CORRECTED = "payment.amount-corrected"
    PAYMENT_UNRESOLVED = "payment.unresolved"
    PAYMENT_DISPUTE_INQUIRY = "payment.dispute-inquiry"
    PAYMENT_DISPUTE_LOST = "payment.dispute-lost"
    PAYMENT_DISPUTE_MONEY_BACK = "payment.dispute-money-back"
    PAYMENT_DISPUTE_WON = "payment.dispute-won"
    REFUND_CREATED = "refund.created"
    REFUND_SENT = "refund.sent"
    REFUND_TRANSIT = "refund.transit"
    REFUND_DONE = "refund.done"
    REFUND_FAILED = "refund.failed"
    REFUND_CANCELED = "refund.canceled"
    REFUND_EXTERNAL = "refund.external"
    REFUND_EXTERNAL_LINKED = "refund.external-linked"
    REFUND_PROVIDER_DISAGREES = "refund.provider-disagrees"
    REFUND_UNRESOLVED = "refund.unresolved"
    REFUND_ACCOUNT_SET = "refund.account-set"
    REFUND_EXPORTED = "refund.exported"
    BANK_TRANSACTION_MATCHED = "bank-transaction.matched"
