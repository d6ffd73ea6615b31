"""JSON:API resource objects of webhook endpoints and deliveries."""

from __future__ import annotations

from boxoffice.kit.jsonapi import ResourceObject, rel_to_many, rel_to_one, resource_object
from boxoffice.webhooks.models import WebhookDelivery, WebhookEndpoint

Fields = frozenset[str] | None

ENDPOINT_FIELDS = frozenset(
    {"url", "event-types", "enabled", "description", "created-at", "secret", "organizer", "deliveries"}
)
DELIVERY_FIELDS = frozenset(
    {
        "event-type",
        "event-id",
        "state",
        "attempts",
        "response-status",
        "last-error",
        "next-attempt-at",
        "created-at",
        "delivered-at",
        "payload",
        "log",
        "webhook-endpoint",
        "order",
    }
)


def endpoint_resource(endpoint: WebhookEndpoint, fields: Fields = None, *, with_secret: bool = False) -> ResourceObject:
    """An endpoint; its ``secret`` only ``with_secret`` (the answer to its creation)."""
    attributes: dict[str, object] = {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "created_at": endpoint.created_at,
    }
    if with_secret:
        attributes["secret"] = endpoint.secret
    base = f"/v1/webhook-endpoints/{endpoint.id}"
    return resource_object(
        "webhook-endpoints",
        endpoint.id,
        attributes,
        {
            "organizer": rel_to_one("organizers", endpoint.organizer_id, f"/v1/organizers/{endpoint.organizer_id}"),
            "deliveries": rel_to_many("webhook-deliveries", None, f"{base}/deliveries"),
        },
        links={"self": base},
        fields=fields,
    )


def delivery_resource(delivery: WebhookDelivery, fields: Fields = None) -> ResourceObject:
    """A delivery with its log of attempts and the exact body it sends."""
    log = [
        {
            "number": attempt.number,
            "attempted-at": attempt.attempted_at,
            "response-status": attempt.response_status,
            "error": attempt.error,
            "duration-ms": attempt.duration_ms,
        }
        for attempt in delivery.log
    ]
    return resource_object(
        "webhook-deliveries",
        delivery.id,
        {
            "event_type": delivery.event_type,
            "event_id": delivery.event_id,
            "state": delivery.state,
            "attempts": delivery.attempts,
            "response_status": delivery.response_status,
            "last_error": delivery.last_error,
            "next_attempt_at": delivery.next_attempt_at,
            "created_at": delivery.created_at,
            "delivered_at": delivery.delivered_at,
            "payload": delivery.payload,
            "log": log,
        },
        {
            "webhook_endpoint": rel_to_one(
                "webhook-endpoints", delivery.endpoint_id, f"/v1/webhook-endpoints/{delivery.endpoint_id}"
            ),
            "order": rel_to_one(
                "orders", delivery.order_id, f"/v1/orders/{delivery.order_id}" if delivery.order_id else None
            ),
        },
        links={"self": f"/v1/webhook-deliveries/{delivery.id}"},
        fields=fields,
    )
