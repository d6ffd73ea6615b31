"""Which e-mail an audit entry causes, and the cause key that makes it go out at most once (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boxoffice.orders.actions import Action


class Audience(StrEnum):
    BUYER = "buyer"
    ORGANIZER = "organizer"


TEMPLATES: dict[str, Audience] = {
    "order-placed": Audience.BUYER,
    "payment-pending": Audience.BUYER,
    "order-paid": Audience.BUYER,
    "payment-failed": Audience.BUYER,
    "refund-done": Audience.BUYER,
    "expiry-reminder": Audience.BUYER,
    "order-overpaid": Audience.ORGANIZER,
    "quota-exceeded": Audience.ORGANIZER,
    "refund-external": Audience.ORGANIZER,
    "unmatched-transfer": Audience.ORGANIZER,
    "unresolved-attempt": Audience.ORGANIZER,
}

@dataclass(frozen=True)
class MailIntent:
    template: str
    cause: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def audience(self) -> Audience:
        return TEMPLATES[self.template]


def mails_for(
    action: Action,
    data: Mapping[str, Any],
    *,
    order_status: str,
    order_total: Decimal,
    occurrence: int | str = 1,
) -> tuple[MailIntent, ...]:
    """The mails an audit entry ``action`` (with its ``data``) calls for.

    ``occurrence`` tells this time the order became paid from the others (the reaction passes when
    it became paid); it is only read for ``order.paid``, whose cause is "this time", not a payment.
    """
    payment = data.get("payment")
    refund = data.get("refund")
    if action == Action.ORDER_PLACED:
        # A free order is paid in the same breath; its "paid" mail says all there is to say.
        return (MailIntent("order-placed", "placed"),) if order_total > 0 else ()
    if action == Action.ORDER_PAID:
        return (MailIntent("order-paid", f"paid#{occurrence}"),)
    if action == Action.PAYMENT_PENDING and payment:
        return (MailIntent("payment-pending", f"payment:{payment}", {"payment": payment}),)
    if action == Action.PAYMENT_FAILED and payment and order_status == "pending":
        # Only while the buyer can still pay; a failed attempt on a paid or closed order is no news to them.
        return (MailIntent("payment-failed", f"payment:{payment}", {"payment": payment}),)
    if action == Action.REFUND_DONE and refund:
        return (MailIntent("refund-done", f"refund:{refund}", {"refund": refund}),)
    if action == Action.ORDER_OVERPAID and payment:
        context = {"payment": payment, "overpaid_by": data.get("overpaid_by")}
        return (MailIntent("order-overpaid", f"payment:{payment}", context),)
    if action == Action.ORDER_QUOTA_EXCEEDED and payment:
        return (MailIntent("quota-exceeded", f"payment:{payment}", {"payment": payment}),)
    if action == Action.REFUND_EXTERNAL and refund:
        return (MailIntent("refund-external", f"refund:{refund}", {"refund": refund}),)
    return ()


def expiry_reminder(expires_at_iso: str) -> MailIntent:
    """The reminder for one deadline: a deadline moved by the organizer earns a reminder of its own."""
    return MailIntent("expiry-reminder", f"deadline:{expires_at_iso}", {"expires_at": expires_at_iso})


def unresolved_attempt(kind: str, full_id: str) -> MailIntent:
    """The organizer's notice that the janitor could not settle a payment or refund."""
    return MailIntent("unresolved-attempt", f"{kind}:{full_id}", {"kind": kind, "full_id": full_id})
