"""JSON:API resource objects of the catalogue: one function per resource type.

Each takes the model (and what it needs to write amounts) and an optional sparse fieldset, and
returns a resource object for :func:`boxoffice.kit.jsonapi.document`.
"""

from __future__ import annotations

from collections.abc import Iterable

from boxoffice.catalogue.models import Event, Organizer, Product, Quota
from boxoffice.kit.jsonapi import ResourceObject, rel_to_many, rel_to_one, resource_object
from boxoffice.kit.money import format_amount
from boxoffice.providers.registry import public_payment_providers

Fields = frozenset[str] | None

ORGANIZER_FIELDS = frozenset({"slug", "name", "created-at", "events"})
EVENT_FIELDS = frozenset(
    {
        "name",
        "slug",
        "currency",
        "timezone",
        "date-from",
        "date-to",
        "location",
        "description",
        "live",
        "test-mode",
        "payment-providers",
        "settings",
        "created-at",
        "organizer",
        "products",
        "quotas",
    }
)
PRODUCT_FIELDS = frozenset(
    {
        "name",
        "price",
        "active",
        "position",
        "description",
        "available-from",
        "available-until",
        "max-per-order",
        "event",
        "quotas",
    }
)
QUOTA_FIELDS = frozenset({"name", "size", "used", "available", "event", "products"})


def organizer_resource(organizer: Organizer, fields: Fields = None) -> ResourceObject:
    return resource_object(
        "organizers",
        organizer.id,
        {"slug": organizer.slug, "name": organizer.name, "created_at": organizer.created_at},
        {"events": rel_to_many("events", None, f"/v1/events?filter[organizer]={organizer.id}")},
        links={"self": f"/v1/organizers/{organizer.id}"},
        fields=fields,
    )


def event_resource(event: Event, fields: Fields = None) -> ResourceObject:
    """An event; ``payment-providers`` shows every installed provider's settings, secrets left out."""
    return resource_object(
        "events",
        event.id,
        {
            "name": event.name,
            "slug": event.slug,
            "currency": event.currency,
            "timezone": event.timezone,
            "date_from": event.date_from,
            "date_to": event.date_to,
            "location": event.location,
            "description": event.description,
            "live": event.live,
            "test_mode": event.test_mode,
            "payment_providers": public_payment_providers(event.payment_providers or {}),
            "settings": event.settings or {},
            "created_at": event.created_at,
        },
        {
            "organizer": rel_to_one("organizers", event.organizer_id, f"/v1/organizers/{event.organizer_id}"),
            "products": rel_to_many("products", None, f"/v1/events/{event.id}/products"),
            "quotas": rel_to_many("quotas", None, f"/v1/events/{event.id}/quotas"),
        },
        links={"self": f"/v1/events/{event.id}"},
        fields=fields,
    )


def product_resource(product: Product, event: Event, fields: Fields = None) -> ResourceObject:
    """A product; its price is written in ``event``'s currency. Reads ``product.quotas``."""
    return resource_object(
        "products",
        product.id,
        {
            "name": product.name,
            "price": format_amount(product.price, event.currency),
            "active": product.active,
            "position": product.position,
            "description": product.description,
            "available_from": product.available_from,
            "available_until": product.available_until,
            "max_per_order": product.max_per_order,
        },
        {
            "event": rel_to_one("events", product.event_id, f"/v1/events/{product.event_id}"),
            "quotas": rel_to_many("quotas", _ids(product.quotas)),
        },
        links={"self": f"/v1/products/{product.id}"},
        fields=fields,
    )


def quota_resource(quota: Quota, fields: Fields = None) -> ResourceObject:
    """A quota with its seats taken and left (``available`` is null when unlimited). Reads ``quota.products``."""
    return resource_object(
        "quotas",
        quota.id,
        {"name": quota.name, "size": quota.size, "used": quota.used, "available": quota.available},
        {
            "event": rel_to_one("events", quota.event_id, f"/v1/events/{quota.event_id}"),
            "products": rel_to_many("products", _ids(quota.products)),
        },
        links={"self": f"/v1/quotas/{quota.id}"},
        fields=fields,
    )


def _ids(rows: Iterable[Product | Quota]) -> list[int]:
    return sorted(row.id for row in rows)
