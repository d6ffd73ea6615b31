"""JSON:API resource objects of payments, refunds and the Open Event ``charge``.

A payment's ``details`` come from its provider (``api_payment_details``), plus the URL the buyer
must visit while the attempt waits for them and the provider's message when it failed.
:class:`PaymentDetails` builds each event's providers once per request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event
from boxoffice.errors import DomainError
from boxoffice.kit.jsonapi import ResourceObject, rel_to_many, rel_to_one, resource_object
from boxoffice.kit.money import format_amount
from boxoffice.payments.checkout import REDIRECT_URL
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import PaymentState, RefundState
from boxoffice.providers.base import PaymentProvider
from boxoffice.providers.registry import provider_for

Fields = frozenset[str] | None

PAYMENT_FIELDS = frozenset(
    {
        "local-id",
        "full-id",
        "provider",
        "amount",
        "state",
        "payment-date",
        "created-at",
        "details",
        "order",
        "refunds",
    }
)
REFUND_FIELDS = frozenset(
    {
        "local-id",
        "full-id",
        "provider",
        "amount",
        "state",
        "source",
        "comment",
        "execution-date",
        "created-at",
        "details",
        "order",
        "payment",
    }
)


class PaymentDetails:
    """``details`` of payments, asking each event's provider once per request."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._providers: dict[tuple[int, str], PaymentProvider | None] = {}

    def _provider(self, event: Event, identifier: str) -> PaymentProvider | None:
        key = (event.id, identifier)
        if key not in self._providers:
            try:
                self._providers[key] = provider_for(event, identifier, self.session)
            except DomainError:  # uninstalled since the payment was made: nothing to ask
                self._providers[key] = None
        return self._providers[key]

    def __call__(self, payment: Payment) -> dict[str, Any]:
        provider = self._provider(payment.order.event, payment.provider)
        details = dict(provider.api_payment_details(payment)) if provider is not None else {}
        if payment.state == PaymentState.PENDING and payment.info.get(REDIRECT_URL):
            details["redirect-url"] = payment.info[REDIRECT_URL]
        if payment.state == PaymentState.FAILED and payment.info.get("message"):
            details["message"] = payment.info["message"]
        return details


def payment_resource(payment: Payment, details: dict[str, Any], fields: Fields = None) -> ResourceObject:
    order = payment.order
    return resource_object(
        "payments",
        payment.id,
        {
            "local_id": payment.local_id,
            "full_id": payment.full_id,
            "provider": payment.provider,
            "amount": format_amount(payment.amount, order.currency),
            "state": payment.state,
            "payment_date": payment.payment_date,
            "created_at": payment.created_at,
            "details": details,
        },
        {
            "order": rel_to_one("orders", payment.order_id, f"/v1/orders/{payment.order_id}"),
            "refunds": rel_to_many("refunds", None, f"/v1/orders/{payment.order_id}/refunds"),
        },
        links={"self": f"/v1/payments/{payment.id}"},
        fields=fields,
    )


def refund_resource(refund: Refund, fields: Fields = None) -> ResourceObject:
    order = refund.order
    details: dict[str, Any] = {}
    if refund.state in (RefundState.FAILED, RefundState.CANCELED, RefundState.TRANSIT) and refund.info.get("message"):
        details["message"] = refund.info["message"]
    return resource_object(
        "refunds",
        refund.id,
        {
            "local_id": refund.local_id,
            "full_id": refund.full_id,
            "provider": refund.provider,
            "amount": format_amount(refund.amount, order.currency),
            "state": refund.state,
            "source": refund.source,
            "comment": refund.comment,
            "execution_date": refund.execution_date,
            "created_at": refund.created_at,
            "details": details,
        },
        {
            "order": rel_to_one("orders", refund.order_id, f"/v1/orders/{refund.order_id}"),
            "payment": rel_to_one(
                "payments", refund.payment_id, f"/v1/payments/{refund.payment_id}" if refund.payment_id else None
            ),
        },
        links={"self": f"/v1/refunds/{refund.id}"},
        fields=fields,
    )


def charge_resource(payment: Payment, *, status: bool, message: str, redirect_url: str | None) -> ResourceObject:
    """The Open Event ``charge``: did it work (``status``), what to tell the buyer, and the attempt
    it recorded (its id is the payment's)."""
    attributes: dict[str, Any] = {"status": status, "message": message}
    if redirect_url:
        attributes["redirect_url"] = redirect_url
    return resource_object(
        "charge",
        payment.id,
        attributes,
        {
            "order": rel_to_one("orders", payment.order_id, f"/v1/orders/{payment.order_id}"),
            "payment": rel_to_one("payments", payment.id, f"/v1/payments/{payment.id}"),
        },
    )
