"""Request and response documents of webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from boxoffice.kit.schemas import (
    Attributes,
    Relationships,
    RequestDocument,
    ResourceData,
    ToOne,
    list_response_model,
    resource_response_model,
)
from boxoffice.webhooks.rules import EVENT_TYPES

Url = Annotated[str, Field(min_length=1, max_length=2000, examples=["https://example.org/boxoffice-hooks"])]
EventTypes = Annotated[
    list[str],
    Field(min_length=1, max_length=len(EVENT_TYPES), description=f"Any of: {', '.join(EVENT_TYPES)}."),
]
Description = Annotated[str, Field(max_length=200)]


class EndpointCreateAttributes(Attributes):
    url: Url
    event_types: EventTypes
    enabled: StrictBool = True
    description: Description | None = None


class EndpointCreateRelationships(Relationships):
    organizer: ToOne[Literal["organizers"]] | None = Field(
        default=None, description="Needed only when the caller belongs to several organizers."
    )


class EndpointCreateData(ResourceData):
    type: Literal["webhook-endpoints"]
    attributes: EndpointCreateAttributes
    relationships: EndpointCreateRelationships = Field(default_factory=EndpointCreateRelationships)


class EndpointCreateRequest(RequestDocument):
    data: EndpointCreateData


class EndpointUpdateAttributes(Attributes):
    url: Url | None = None
    event_types: EventTypes | None = None
    enabled: StrictBool | None = None
    description: Description | None = None


class EndpointUpdateData(ResourceData):
    type: Literal["webhook-endpoints"]
    id: str
    attributes: EndpointUpdateAttributes = Field(default_factory=EndpointUpdateAttributes)


class EndpointUpdateRequest(RequestDocument):
    data: EndpointUpdateData


class EndpointAttributes(Attributes):
    url: str
    event_types: list[str]
    enabled: bool
    description: str | None
    created_at: datetime
    secret: str | None = Field(
        default=None,
        description="Signs every delivery (Boxoffice-Signature header). Shown once, in the answer to the creation.",
    )


class AttemptOut(Attributes):
    number: int
    attempted_at: datetime
    response_status: int | None
    error: str | None
    duration_ms: int


class DeliveryAttributes(Attributes):
    event_type: str
    event_id: str = Field(description="The id in the delivered body; the same for every endpoint and attempt.")
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    response_status: int | None = Field(description="The HTTP status of the last attempt (null: no answer).")
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description='The body sent: {"id", "type", "created", "data"}.')
    log: list[AttemptOut] = Field(description="Every attempt, oldest first.")


EndpointDocument = resource_response_model("webhook-endpoints", EndpointAttributes, ["organizer", "deliveries"])
EndpointListDocument = list_response_model(EndpointDocument)
DeliveryDocument = resource_response_model("webhook-deliveries", DeliveryAttributes, ["webhook-endpoint", "order"])
DeliveryListDocument = list_response_model(DeliveryDocument)
