"""JSON:API resource objects of check-in lists and scans."""

from __future__ import annotations

from boxoffice.kit.jsonapi import ResourceObject, rel_to_many, rel_to_one, resource_object
from boxoffice.tickets.models import Checkin, CheckInList
from boxoffice.tickets.repository import ListFigures

Fields = frozenset[str] | None

LIST_FIELDS = frozenset(
    {
        "name",
        "all-products",
        "allow-reentry",
        "checkin-count",
        "position-count",
        "created-at",
        "event",
        "products",
        "checkins",
    }
)
CHECKIN_FIELDS = frozenset({"result", "actor", "created-at", "attendee-name", "check-in-list", "position"})


def list_resource(check_in_list: CheckInList, figures: ListFigures, fields: Fields = None) -> ResourceObject:
    base = f"/v1/check-in-lists/{check_in_list.id}"
    return resource_object(
        "check-in-lists",
        check_in_list.id,
        {
            "name": check_in_list.name,
            "all_products": check_in_list.all_products,
            "allow_reentry": check_in_list.allow_reentry,
            "checkin_count": figures.admitted,
            "position_count": figures.expected,
            "created_at": check_in_list.created_at,
        },
        {
            "event": rel_to_one("events", check_in_list.event_id, f"/v1/events/{check_in_list.event_id}"),
            "products": rel_to_many("products", sorted(p.id for p in check_in_list.products)),
            "checkins": rel_to_many("checkins", None, f"{base}/checkins"),
        },
        links={"self": base},
        fields=fields,
    )


def checkin_resource(checkin: Checkin, attendee_name: str | None, fields: Fields = None) -> ResourceObject:
    position = checkin.position_id
    return resource_object(
        "checkins",
        checkin.id,
        {
            "result": checkin.result,
            "actor": checkin.actor,
            "created_at": checkin.created_at,
            "attendee_name": attendee_name,
        },
        {
            "check_in_list": rel_to_one(
                "check-in-lists", checkin.check_in_list_id, f"/v1/check-in-lists/{checkin.check_in_list_id}"
            ),
            "position": rel_to_one(
                "order-positions", position, f"/v1/order-positions/{position}" if position is not None else None
            ),
        },
        fields=fields,
    )
