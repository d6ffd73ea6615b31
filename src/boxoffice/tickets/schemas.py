"""Request and response documents of check-in lists and scans."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool

from boxoffice.kit.schemas import (
    Attributes,
    Relationships,
    RequestDocument,
    ResourceData,
    ToMany,
    list_response_model,
    resource_response_model,
)

Name = Annotated[str, Field(min_length=1, max_length=200)]
Scanned = Annotated[str, Field(min_length=1, max_length=500, description="What the scanner read: a ticket's secret.")]


class ListCreateAttributes(Attributes):
    name: Name
    all_products: StrictBool = Field(default=True, description="Admit every product of the event (else: `products`).")
    allow_reentry: StrictBool = Field(default=False, description="Admit a ticket again on every scan.")


class ListRelationships(Relationships):
    products: ToMany[Literal["products"]] | None = None


class ListCreateData(ResourceData):
    type: Literal["check-in-lists"]
    attributes: ListCreateAttributes
    relationships: ListRelationships = Field(default_factory=ListRelationships)


class ListCreateRequest(RequestDocument):
    data: ListCreateData


class ListUpdateAttributes(Attributes):
    name: Name | None = None
    all_products: StrictBool | None = None
    allow_reentry: StrictBool | None = None


class ListUpdateData(ResourceData):
    type: Literal["check-in-lists"]
    id: str
    attributes: ListUpdateAttributes = Field(default_factory=ListUpdateAttributes)
    relationships: ListRelationships = Field(default_factory=ListRelationships)


class ListUpdateRequest(RequestDocument):
    data: ListUpdateData


class CheckinCreateAttributes(Attributes):
    secret: Scanned


class CheckinCreateData(ResourceData):
    type: Literal["checkins"]
    attributes: CheckinCreateAttributes


class CheckinCreateRequest(RequestDocument):
    data: CheckinCreateData


class AttendeeAttributes(Attributes):
    attendee_name: Annotated[str, Field(max_length=200)] | None = Field(
        description="The ticket's attendee; empty or null removes the name."
    )


class AttendeeData(ResourceData):
    type: Literal["order-positions"]
    id: str
    attributes: AttendeeAttributes


class AttendeeRequest(RequestDocument):
    data: AttendeeData


class ListAttributes(Attributes):
    name: str
    all_products: bool
    allow_reentry: bool
    checkin_count: int = Field(description="Distinct tickets admitted through this list.")
    position_count: int = Field(description="Valid tickets (paid, not canceled) this list admits.")
    created_at: datetime


class CheckinAttributes(Attributes):
    result: str = Field(
        description="`ok`, or the refusal: already-checked-in, unpaid, canceled, not-on-list, unknown-ticket."
    )
    actor: str = Field(description="Who scanned.")
    created_at: datetime
    attendee_name: str | None = Field(default=None, description="The ticket's attendee, when the scan found a ticket.")


CheckInListDocument = resource_response_model("check-in-lists", ListAttributes, ["event", "products", "checkins"])
CheckInListListDocument = list_response_model(CheckInListDocument)
CheckinDocument = resource_response_model("checkins", CheckinAttributes, ["check-in-list", "position"])
CheckinListDocument = list_response_model(CheckinDocument)
