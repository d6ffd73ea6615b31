"""Reading the catalogue's forms (event, product, quota) into the changes the catalogue service takes.

Inputs are named like the API's attributes (``date-from``, ``max-per-order``…), so an error the
service raises with the pointer ``/data/attributes/<name>`` lands next to the same-named input.
Every value is checked by the service, as for the API; here only text becomes typed values.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.datastructures import FormData

from boxoffice.api.fields import money
from boxoffice.errors import InvalidValue
from boxoffice.web.http import checked, text
from boxoffice.web.templating import parse_local


def local_time(form: FormData, name: str, timezone: str) -> datetime | None:
    """A ``datetime-local`` input read in the event's time zone; empty is None."""
    raw = text(form, name)
    if not raw:
        return None
    try:
        return parse_local(raw, timezone)
    except ValueError:
        raise InvalidValue(f"'{raw}' is not a date and time.", pointer=f"/data/attributes/{name}") from None


def whole_or_none(form: FormData, name: str) -> int | None:
    raw = text(form, name)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise InvalidValue(f"'{raw}' is not a whole number.", pointer=f"/data/attributes/{name}")
    return int(raw)


def event_details(form: FormData, timezone: str) -> dict[str, Any]:
    """Name, dates, place and description of an event form (dates in the form's time zone)."""
    zone = text(form, "timezone") or timezone
    return {
        "name": text(form, "name"),
        "date_from": local_time(form, "date-from", zone),
        "date_to": local_time(form, "date-to", zone),
        "location": text(form, "location"),
        "description": text(form, "description"),
    }


def price(form: FormData, currency: str) -> Decimal:
    raw = text(form, "price")
    if not raw:
        raise InvalidValue("Enter the price (0 for free tickets).", pointer="/data/attributes/price")
    return money(raw, currency, pointer="/data/attributes/price")


def product_changes(form: FormData, timezone: str) -> dict[str, Any]:
    """Everything of a product form but the price and the quotas."""
    return {
        "name": text(form, "name"),
        "description": text(form, "description"),
        "active": checked(form, "active"),
        "available_from": local_time(form, "available-from", timezone),
        "available_until": local_time(form, "available-until", timezone),
        "max_per_order": whole_or_none(form, "max-per-order"),
    }


def chosen_ids(form: FormData, prefix: str) -> list[int]:
    """The ids of the checked boxes named ``<prefix><id>``."""
    return [int(key[len(prefix):]) for key in form if key.startswith(prefix) and key[len(prefix):].isdigit()]
